package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
)

// TestGCCommand: phoenix gc runs one collection through the API and says
// what it removed; a release just deployed (its blobs younger than the
// grace period, and named by its artifact) loses nothing.
func TestGCCommand(t *testing.T) {
	t.Parallel()
	data := deployToStaging(t, "project: {name: shop}\nenvironments:\n  staging: {}\n")
	out := mustRun(t, "", "gc", "--data", data)
	if !strings.HasPrefix(out, "removed 0 deployment(s), 0 artifact(s), 0 upload(s) and 0 blob(s); pruned 0 run(s) and 0 run folder(s)\n") {
		t.Fatalf("gc said %q", out)
	}
	var st api.GCResponse
	if err := json.Unmarshal([]byte(mustRun(t, "", "gc", "-o", "json", "--data", data)), &st); err != nil {
		t.Fatal(err)
	}
	if st != (api.GCResponse{}) {
		t.Fatalf("gc -o json = %+v, want nothing removed", st)
	}
	var blobs int
	filepath.WalkDir(filepath.Join(data, "blobs"), func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			blobs++
		}
		return nil
	})
	if blobs == 0 {
		t.Fatal("gc removed the deployed release's blobs")
	}
}
