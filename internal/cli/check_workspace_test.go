package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wsFixture is the npm workspace of the lockfile tests, found before a
// test changes the working folder.
var wsFixture, _ = filepath.Abs("../scan/lockfile/testdata/ws-npm")

// workspaceProject copies the npm workspace the lockfile tests use
// (apps/web, apps/admin, packages/ui; package-lock.json written by npm)
// into a new folder, with phoenix.yaml in its root when yaml is not "".
func workspaceProject(t *testing.T, yaml string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(wsFixture)); err != nil {
		t.Fatal(err)
	}
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(root, "phoenix.yaml"), []byte("project:\n  name: web\n"+yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const webNote = "note: apps/web: read ../../package-lock.json, workspace package @acme/web"

// TestCheckWorkspacePackage: phoenix check apps/web, an app of an npm
// workspace with no lockfile of its own, failed every lockfile gate
// closed; each reads the root's lockfile for apps/web's packages only (4;
// the root's whole lockfile has 10, lodash among them, apps/admin's, with
// high advisories) and says so.
func TestCheckWorkspacePackage(t *testing.T) {
	checkData(t)
	root := workspaceProject(t, "")
	r := runCheck(t, root, "check", "apps/web")
	if r.code != 0 || !strings.Contains(r.stdout, webNote) || !strings.Contains(r.stdout, "vulnerability: 1 critical in 4 packages") ||
		strings.Contains(r.stdout, "lodash") {
		t.Errorf("phoenix check apps/web: %+v", r)
	}
	r = runCheck(t, root, "check", "sbom", "apps/web")
	var bom struct {
		Metadata   struct{ Component struct{ Name string } }
		Components []struct{ Name, Version string }
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &bom) != nil || bom.Metadata.Component.Name != "@acme/web" || len(bom.Components) != 4 ||
		!strings.Contains(r.stderr, webNote) {
		t.Errorf("phoenix check sbom apps/web: %+v", r)
	}
	// the root itself is checked whole, as before
	if r := runCheck(t, root, "check", "audit", "--no-gate"); !strings.Contains(r.stdout, "lodash") || strings.Contains(r.stdout, "note:") {
		t.Errorf("phoenix check audit at the root: %+v", r)
	}
}

// TestCheckFollowsBuildApp: a release runs its checks in build.app;
// phoenix check in the project's folder checked the whole workspace
// instead (apps/admin's lodash failed the audit of a release of apps/web
// that passes), and phoenix check apps/web applied the default policy,
// not the root's phoenix.yaml that the release applies.
func TestCheckFollowsBuildApp(t *testing.T) {
	checkData(t)
	root := workspaceProject(t, "build:\n  app: apps/web\n")
	r := runCheck(t, root, "check", "audit")
	if r.code != 0 || !strings.Contains(r.stdout, "vulnerability: 1 critical in 4 packages") ||
		!strings.Contains(r.stderr+r.stdout, "checking apps/web, build.app in phoenix.yaml, as a release does") {
		t.Errorf("phoenix check audit with build.app: %+v", r)
	}
	if r := runCheck(t, root, "check", "audit", "-c", "phoenix.yaml", "--no-gate"); !strings.Contains(r.stdout, "lodash") {
		t.Errorf("-c checks the folder given: %+v", r)
	}
	// the root's policy counts development packages: minimist fails it
	root = workspaceProject(t, "build:\n  app: apps/web\nchecks:\n  audit:\n    dev: true\n")
	r = runCheck(t, filepath.Join(root, "apps", "web"), "check", "audit")
	if r.code != 1 || !strings.Contains(r.stdout, "gate: FAIL") ||
		!strings.Contains(r.stdout, "policy from ../../phoenix.yaml, the workspace root's, whose build.app is this folder") {
		t.Errorf("phoenix check audit in apps/web: %+v", r)
	}
	// another app's folder keeps the defaults
	if r := runCheck(t, filepath.Join(root, "apps", "admin"), "check", "audit", "--no-gate"); strings.Contains(r.stdout, "policy from") {
		t.Errorf("apps/admin took apps/web's policy: %+v", r)
	}
}
