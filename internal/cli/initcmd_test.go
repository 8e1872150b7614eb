package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitNextSteps: the commands init suggests name the project's folder
// when it is not the current one, so they can be pasted as they are.
func TestInitNextSteps(t *testing.T) {
	t.Parallel()
	for dir, want := range map[string]string{
		".":       "next: phoenix validate, then phoenix release v0.1.0 --env staging",
		"./":      "next: phoenix validate, then phoenix release v0.1.0 --env staging",
		"../shop": "next: phoenix validate ../shop, then phoenix release v0.1.0 --dir ../shop --env staging",
	} {
		if got := nextSteps(dir); got != want {
			t.Errorf("nextSteps(%q) = %q, want %q", dir, got, want)
		}
	}
}

// TestInitInAWorkspacePackage: phoenix init in an app of a workspace
// (a phoenix.yaml per app) found no lockfile, and wrote npm install with a
// note to commit one; the workspace root's lockfile is the app's: npm ci,
// which npm runs in a workspace's package for the whole workspace. The
// checks then read the root's lockfile for the app.
func TestInitInAWorkspacePackage(t *testing.T) {
	checkData(t)
	root := workspaceProject(t, "")
	web := filepath.Join(root, "apps", "web")
	if r := runCheck(t, web, "init"); r.code != 0 || !strings.Contains(r.stdout, "npm (../../package-lock.json)") {
		t.Fatalf("init in apps/web: %+v", r)
	}
	yml, err := os.ReadFile(filepath.Join(web, "phoenix.yaml"))
	if err != nil || !strings.Contains(string(yml), "install: npm ci\n") || strings.Contains(string(yml), "no lockfile") ||
		!strings.Contains(string(yml), "the package apps/web of the workspace in ../..") {
		t.Errorf("phoenix.yaml: %v\n%s", err, yml)
	}
	if r := runCheck(t, web, "check"); r.code != 0 || !strings.Contains(r.stdout, webNote) {
		t.Errorf("check in apps/web: %+v", r)
	}
}
