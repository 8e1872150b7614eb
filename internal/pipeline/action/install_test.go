package action

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestInstallThenBuildInstallOnce: the install step installs the
// dependencies (and the latest pnpm, none being pinned, through npm); the
// build after it (input install: false) neither installs the dependencies
// again nor fetches pnpm again, but runs the build with the pnpm the
// install step put in the tools cache.
func TestInstallThenBuildInstallOnce(t *testing.T) {
	bin, proj, tools := fakeNPM(t), t.TempDir(), t.TempDir()
	write(t, proj, map[string]string{
		"package.json":   `{"name":"site","scripts":{"build":"vite build"},"devDependencies":{"vite":"^5"}}`,
		"pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
	})
	calls := filepath.Join(t.TempDir(), "calls")
	env := []string{"PATH=" + bin + ":/usr/bin:/bin", "CALLS=" + calls, "HOME=" + t.TempDir()}
	d := Deps{ToolsDir: tools}
	sc, log, _ := newContext(t, proj, config.Default(), env)
	if err := d.install(context.Background(), sc); err != nil {
		t.Fatalf("install: %v\n%s", err, log)
	}
	sc, log, outs := newContext(t, proj, config.Default(), env)
	sc.With["install"] = false
	if err := d.build(context.Background(), sc); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	got, _ := os.ReadFile(calls)
	for call, want := range map[string]int{"npm install --no-audit": 1, "pnpm install --frozen-lockfile": 1, "pnpm run build": 1} {
		if n := strings.Count(string(got), call); n != want {
			t.Errorf("%q called %d times, want %d; calls:\n%s", call, n, want, got)
		}
	}
	if outs["dir"] != filepath.Join(proj, "dist") || !strings.Contains(log.String(), "not installed again") {
		t.Errorf("dir output %q, build log:\n%s", outs["dir"], log)
	}
}
