package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployLeavesProjectFilesOut: 'phoenix deploy .' of a folder of
// static files (the project folder: its phoenix.yaml is the one in use)
// leaves phoenix.yaml and .git out of the site and says so; a build
// output (dist) keeps a phoenix.yaml of its own but never a .git.
func TestDeployLeavesProjectFilesOut(t *testing.T) {
	t.Parallel()
	data, dir := t.TempDir(), t.TempDir()
	files := map[string]string{
		"phoenix.yaml":      "project: {name: shop}\nenvironments:\n  staging: {}\n",
		"index.html":        "<p>shop</p>",
		".git/HEAD":         "ref: refs/heads/main\n",
		"dist/index.html":   "<p>built</p>",
		"dist/phoenix.yaml": "a file of the site\n",
		"dist/.git/config":  "[core]\n",
	}
	writeFiles(t, dir, files)
	cfg := filepath.Join(dir, "phoenix.yaml")
	deploy := func(src string) (int, string) {
		out, errs, code := runVault(t, "", "deploy", src, "--env", "staging", "--data", data, "-c", cfg, "-o", "json")
		var res struct{ Files int }
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("deploy %s: exit %d\nstdout %s\nstderr %s", src, code, out, errs)
		}
		return res.Files, errs
	}
	// The project folder: index.html and dist's two site files; not
	// phoenix.yaml, .git nor dist/.git.
	if n, errs := deploy(dir); n != 3 || !strings.Contains(errs, "is the project folder: phoenix.yaml and .git left out of the site") {
		t.Fatalf("project folder: %d files (want 3)\nstderr %s", n, errs)
	}
	if n, errs := deploy(filepath.Join(dir, "dist")); n != 2 || strings.Contains(errs, "left out") {
		t.Fatalf("dist: %d files (want 2: index.html, phoenix.yaml)\nstderr %s", n, errs)
	}
}
