package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeploySummaryCountsFilesApartFromBlobs: a 6-file folder is "6
// files", as the pipeline's create-artifact step says, however many blobs
// its precompressed variants add; the blobs are split into uploaded and
// already on the server. The JSON keeps blobs_sent and blobs_total and
// adds files and blobs_present.
func TestDeploySummaryCountsFilesApartFromBlobs(t *testing.T) {
	t.Parallel()
	data, site := t.TempDir(), t.TempDir()
	for i := range 6 { // text large enough to be precompressed
		body := strings.Repeat(fmt.Sprintf("<p>page %d of the site</p>\n", i), 200)
		if err := os.WriteFile(filepath.Join(site, fmt.Sprintf("p%d.html", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", site, "--env", "staging", "--data", data, "-c", cfg}
	var first struct {
		Files   *int `json:"files"`
		Total   *int `json:"blobs_total"`
		Sent    *int `json:"blobs_sent"`
		Present *int `json:"blobs_present"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", append(args, "-o", "json")...)), &first); err != nil {
		t.Fatal(err)
	}
	if first.Files == nil || first.Total == nil || first.Sent == nil || first.Present == nil {
		t.Fatalf("json lacks a count: %+v", first)
	}
	if *first.Files != 6 || *first.Total <= 6 || *first.Sent+*first.Present != *first.Total {
		t.Fatalf("json: files %d, blobs %d (sent %d, present %d); want 6 files and more blobs", *first.Files, *first.Total, *first.Sent, *first.Present)
	}
	// On the server's machine the build writes into the server's store:
	// nothing is uploaded, and the line does not say the server already
	// had every blob (of the first deploy too).
	out := mustRun(t, "", args...)
	want := fmt.Sprintf("  6 files, %d blobs, stored straight in the server's store (its data dir is on this machine)\n", *first.Total)
	if !strings.Contains(out, want) || strings.Contains(out, "already on the server") {
		t.Fatalf("summary of a deploy on the server's machine:\n%s\nwant the line %q", out, want)
	}
}
