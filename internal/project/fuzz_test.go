package project

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// FuzzDetect feeds arbitrary package.json, vite.config.ts, .nvmrc and
// pnpm-workspace.yaml contents to Detect: it must not panic, and whatever it
// detects must render to a phoenix.yaml that config.Parse accepts.
func FuzzDetect(f *testing.F) {
	for _, dir := range []string{"npm-vite", "yarn-berry", "cra"} {
		pkg, _ := os.ReadFile(filepath.Join("testdata", dir, "package.json"))
		vite, _ := os.ReadFile(filepath.Join("testdata", dir, "vite.config.ts"))
		f.Add(string(pkg), string(vite), "20", "")
	}
	f.Add(`{"name":"x","scripts":{"build":"b"},"devDependencies":{"vite":"7"},"engines":{"node":"^20 || >=22"}}`,
		"export default {build:{outDir:'../../etc'}}", "lts/*", "packages: ['a/*']")
	f.Add(`{"workspaces":["*"]}`, "", "node", "packages: [1, {a: b}]")
	f.Fuzz(func(t *testing.T, pkg, vite, nvmrc, workspace string) {
		root := t.TempDir()
		for name, content := range map[string]string{"package.json": pkg, "vite.config.ts": vite,
			".nvmrc": nvmrc, "pnpm-workspace.yaml": workspace} {
			if content != "" {
				if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		d, err := Detect(root, "")
		var we *WorkspaceError
		if err != nil || errors.As(err, &we) {
			return
		}
		if _, err := config.Parse(Render(d), "phoenix.yaml"); err != nil {
			t.Fatalf("render of %+v does not parse:\n%v", d, err)
		}
	})
}
