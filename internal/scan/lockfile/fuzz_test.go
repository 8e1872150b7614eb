package lockfile

import (
	"context"
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

// wsFuzzLockfiles are the lockfiles FuzzWorkspace writes at the root, by
// its which: (which&3)%3 picks the name, which&4 adds a pnpm-workspace.yaml.
var wsFuzzLockfiles = []string{"package-lock.json", "pnpm-lock.yaml", "yarn.lock"}

// FuzzWorkspace reaches what FuzzParse cannot: the workspace code, which
// reads package.json files from disk. It writes a root package.json,
// apps/web/package.json and a lockfile into a temporary folder and loads
// both folders, as the gates do at a workspace's root and for an app:
// no panic, every error names a file under the folder, every problem
// the lockfile.
func FuzzWorkspace(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/ws-*")
	for _, dir := range dirs {
		root, _ := os.ReadFile(filepath.Join(dir, "package.json"))
		web, _ := os.ReadFile(filepath.Join(dir, "apps", "web", "package.json"))
		which := uint8(0)
		if _, err := os.Stat(filepath.Join(dir, "pnpm-workspace.yaml")); err == nil {
			which |= 4
		}
		for i, name := range wsFuzzLockfiles {
			if lock, err := os.ReadFile(filepath.Join(dir, name)); err == nil && root != nil && web != nil {
				f.Add(which|uint8(i), root, web, lock)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, root, web, lock []byte) {
		dir := t.TempDir()
		name := wsFuzzLockfiles[int(which&3)%len(wsFuzzLockfiles)]
		files := map[string][]byte{"package.json": root, "apps/web/package.json": web, name: lock}
		if which&4 != 0 {
			files["pnpm-workspace.yaml"] = []byte("packages:\n  - \"apps/*\"\n  - \"packages/*\"\n")
		}
		for rel, body := range files {
			writeFile(t, filepath.Join(dir, filepath.FromSlash(rel)), body)
		}
		for _, at := range []string{dir, filepath.Join(dir, "apps", "web")} {
			ls, err := Load(context.Background(), at)
			checkErrNamesFile(t, err, dir)
			for _, l := range ls {
				checkProblems(t, filepath.Join(dir, name), l)
			}
		}
	})
}

// writeFile writes body to the file p, making its folder.
func writeFile(t *testing.T, p string, body []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkErrNamesFile fails when err, or one of the errors it joins, does
// not name a file or folder under dir.
func checkErrNamesFile(t *testing.T, err error, dir string) {
	t.Helper()
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			checkErrNamesFile(t, e, dir)
		}
		return
	}
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error names no file: %v", err)
	}
}
