package project

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestDetectRealViteProject lets npm resolve a real Vite 7 dependency tree
// into package-lock.json, then checks detection and that Render's output
// validates.
func TestDetectRealViteProject(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the npm registry")
	}
	npm := testkit.RequireTool(t, "npm", "npm")
	root := t.TempDir()
	write(t, root, "package.json", `{"name":"real-vite-site","private":true,"type":"module",
  "scripts":{"build":"vite build","test":"vitest run"}}`)
	write(t, root, "index.html", `<!doctype html><script type="module" src="/main.js"></script>`)
	write(t, root, "vite.config.js", "export default { build: { outDir: \"public-dist\" } }\n")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--package-lock-only", "--save-dev",
		"--ignore-scripts", "--no-audit", "--no-fund", "vite@7")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("PHOENIX_REQUIRE_TOOLS") == "1" {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		t.Skipf("npm install failed (registry unreachable?): %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "package-lock.json")); err != nil {
		t.Fatalf("npm wrote no lockfile: %v", err)
	}
	d, err := Detect(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.PackageManager != "npm" || d.Lockfile != "package-lock.json" || d.Install != "npm ci" ||
		d.Framework != "vite" || d.Output != "public-dist" || d.BuildCommand != "npm run build" {
		t.Errorf("detection of the real project: %+v", d)
	}
	checkRender(t, d)
}
