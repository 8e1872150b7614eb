package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestAReleaseCannotProbeTheServersFiles: POST /api/v1/releases reads
// phoenix.yaml in the folder the request names, on the server's disk. For
// a folder that is not one of a project the caller may read, the answer is
// the same whatever is there: nothing, a file, a folder without
// phoenix.yaml or with a folder of that name, a file that is no YAML or
// names no project, one the server may not read, another project's (valid
// or not). Before, the answer told them apart ("no such file or
// directory", "not a directory", "is a directory", a 403 naming the other
// project and its environment, its phoenix.yaml's problems). The answer
// names the field and how to fix it; the caller's own project still gets
// its phoenix.yaml's problems, and releases.
func TestAReleaseCannotProbeTheServersFiles(t *testing.T) {
	f := newFixture(t)
	root := t.TempDir()
	write := func(rel, body string) string {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(p)
	}
	const billing = "project: {name: billing}\nenvironments: {staging: {}}\n"
	file := filepath.Join(write("file/notes.txt", "notes"), "notes.txt")
	yamlDir := filepath.Join(root, "yamldir")
	if err := os.MkdirAll(filepath.Join(yamlDir, "phoenix.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	unreadable := write("unreadable/phoenix.yaml", billing)
	if err := os.Chmod(filepath.Join(unreadable, "phoenix.yaml"), 0); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"nothing there":         filepath.Join(root, "nope"),
		"below a file":          filepath.Join(file, "sub"),
		"a file":                file,
		"no phoenix.yaml":       filepath.Join(root, "empty"),
		"phoenix.yaml a folder": yamlDir,
		"no YAML":               write("garbage/phoenix.yaml", "\x00\x01: : [\n"),
		"no project":            write("noproject/phoenix.yaml", "environments: {staging: {}}\n"),
		"unreadable":            unreadable,
		"another project":       write("billing/phoenix.yaml", billing),
		"another, invalid":      write("billing2/phoenix.yaml", billing+"bogus: 1\n"),
		"a system folder":       "/",
	}
	var want Error
	wantOf := ""
	for name, dir := range dirs {
		status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: dir, Version: "9.0.0", Environments: []string{"staging"}})
		var got Error
		if err := json.Unmarshal(out, &got); err != nil || status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, status, out)
			continue
		}
		got.RequestID, got.Message = "", strings.Replace(got.Message, strconv.Quote(dir), `"DIR"`, 1)
		if wantOf == "" {
			want, wantOf = got, name
		}
		if got != want {
			t.Errorf("%s answers %+v, %s %+v: the same answer for both, please", name, got, wantOf, want)
		}
	}
	if !strings.HasPrefix(want.Message, `dir "DIR": `) || !strings.Contains(want.Hint, "absolute path") ||
		!strings.Contains(want.Hint, "phoenix validate") {
		t.Errorf("the answer does not name the field and how to fix it: %+v", want)
	}
	recs, _ := f.log.Query(bg, audit.Filter{Action: "access.denied"})
	var billingDenials int
	for _, r := range recs {
		if strings.Contains(r.Detail, "read on project billing") {
			billingDenials++
		}
	}
	if billingDenials < 2 { // another project's, valid or not (and the unreadable one, for root)
		t.Errorf("%d denials for billing audited, want at least 2: %+v", billingDenials, recs)
	}

	own := write("shop/phoenix.yaml", "project: {name: shop}\nenvironments: {staging: {}}\nbogus: 1\n")
	status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: own, Version: "9.0.0", Environments: []string{"staging"}})
	if status != http.StatusBadRequest || !strings.Contains(string(out), "phoenix.yaml:3:1") || !strings.Contains(string(out), "bogus") {
		t.Errorf("the caller's own project's problems: %d %s", status, out)
	}
	status, out, _ = f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: "shop", Version: "9.0.0"})
	if status != http.StatusBadRequest || !strings.Contains(string(out), "want an absolute path on the server") {
		t.Errorf("a relative dir: %d %s", status, out)
	}
	if status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: f.quick, Version: "9.0.1", Environments: []string{"staging"}}); status != http.StatusCreated {
		t.Errorf("ci releases its own project: %d %s", status, out)
	}
}

// TestAReleaseRunsTheFileItWasCheckedOn: the release runs the phoenix.yaml
// the API checked the caller's rights on, not the folder's file read
// again: rewritten in between (here while the API asks which environments
// the file's channels need), it could name a project the caller may not
// deploy, and the staging token would release it.
func TestAReleaseRunsTheFileItWasCheckedOn(t *testing.T) {
	f := newFixture(t)
	dir := f.project(t.TempDir(), "swapped", quickYAML)
	f.api.opts.ConfigNeeds = func(context.Context, *config.Config) ([]string, error) {
		err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(strings.Replace(quickYAML, "name: shop", "name: billing", 1)), 0o644)
		return nil, err
	}
	status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: dir, Version: "9.2.0", Environments: []string{"staging"}})
	var run pipeline.Run
	if status != http.StatusCreated || json.Unmarshal(out, &run) != nil || run.Project != "shop" {
		t.Fatalf("release: %d %s; want a run of shop", status, out)
	}
	if runs, err := f.pipe.Runs(bg, pipeline.RunFilter{Project: "billing"}); err != nil || len(runs) != 0 {
		t.Fatalf("billing's runs: %d, %v", len(runs), err)
	}
}
