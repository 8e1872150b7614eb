package lockfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds every parser arbitrary bytes: no panics, and every
// problem names the file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*")
	seeds = append(seeds, "testdata/pnpm5.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && len(data) < 30000 {
			f.Add(uint8(0), data[:min(len(data), 4000)])
		}
	}
	f.Add(uint8(2), []byte("# yarn lockfile v1\n\n\"a@^1\", a@~1:\n  version \"1.0.0\"\n  dependencies:\n    b \"^2\"\n"))
	f.Add(uint8(3), []byte("__metadata:\n  version: 6\n\"a@npm:^1\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n"))
	f.Add(uint8(4), []byte("module x\nrequire a.b/c v1.0.0\n"))
	f.Add(uint8(1), []byte("lockfileVersion: '9.0'\nimporters:\n  apps/web:\n    dependencies:\n      b:\n        specifier: workspace:*\n        version: link:../../packages/b\n  packages/b:\n    dependencies:\n      a:\n        specifier: ^1\n        version: 1.0.0\npackages:\n  a@1.0.0: {}\nsnapshots:\n  a@1.0.0: {}\n"))
	f.Add(uint8(0), []byte(`{"lockfileVersion":3,"packages":{"":{"workspaces":["apps/*"]},"apps/web":{"name":"w","dependencies":{"b":"*"},"devDependencies":{"a":"1"}},"node_modules/b":{"link":true,"resolved":"packages/b"},"packages/b":{"name":"b","version":"1.0.0","dependencies":{"a":"1"}},"node_modules/a":{"version":"1.0.0"}}}`))
	names := []string{"package-lock.json", "pnpm-lock.yaml", "yarn.lock", "yarn.lock", "go.mod", "go.sum", "npm-shrinkwrap.json"}
	m := &Manifest{Deps: map[string]string{"a": "^1"}, DevDeps: map[string]string{"b": "^2"}}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		for i, name := range names {
			if int(which)%len(names) != i && i != 0 {
				continue
			}
			l, err := Parse(name, data, m)
			if err == nil {
				checkProblems(t, name, l)
			}
			if strings.HasPrefix(name, "go.") {
				continue
			}
			// read for the workspace package apps/web, as Load does for a
			// folder of a workspace
			ws := &wsScope{root: "testdata/no-such-root", dir: "apps/web", app: m, packages: map[string]string{"b": "packages/b"}}
			if l, err := parseScoped(name, data, ws); err == nil {
				checkProblems(t, name, l)
			}
		}
	})
}

// checkProblems fails when a problem of l does not name the file.
func checkProblems(t *testing.T, name string, l *Lockfile) {
	t.Helper()
	for _, p := range l.Problems {
		if p.File != name {
			t.Fatalf("problem without the file: %+v", p)
		}
	}
}
