package lockfile

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// scopedPkg is what a test expects of one package of a workspace
// package's lockfile.
type scopedPkg struct {
	dev  bool
	path string // the dependency path, " > " between its steps
}

// TestWorkspacePackage reads the same npm workspace (apps/web, apps/admin,
// packages/ui; lockfiles written by npm 11, pnpm 8 and 9, yarn 1 and 4)
// for each of its packages, which have no lockfile of their own: each gets
// its own dependencies and those of the workspace packages it depends on
// (apps/web's @acme/ui pulls debug in), with its own dev/prod split, and
// nothing only another package or the root needs (lodash is apps/admin's,
// semver the root's, json5 a devDependency of packages/ui).
func TestWorkspacePackage(t *testing.T) {
	want := map[string]map[string]scopedPkg{
		"apps/web": {
			"ms@2.1.3":       {false, "ms@2.1.3"},
			"debug@2.6.9":    {false, "@acme/ui@0.1.0 > debug@2.6.9"},
			"ms@2.0.0":       {false, "@acme/ui@0.1.0 > debug@2.6.9 > ms@2.0.0"},
			"minimist@1.2.5": {true, "minimist@1.2.5"},
		},
		"apps/admin": {
			"lodash@4.17.20": {false, "lodash@4.17.20"},
			"ms@2.0.0":       {false, "ms@2.0.0"},
		},
		"packages/ui": {
			"debug@2.6.9": {false, "debug@2.6.9"},
			"ms@2.0.0":    {false, "debug@2.6.9 > ms@2.0.0"},
			"json5@2.2.1": {true, "json5@2.2.1"},
		},
	}
	names := map[string]string{"apps/web": "@acme/web", "apps/admin": "@acme/admin", "packages/ui": "@acme/ui"}
	for _, tc := range []struct{ dir, lockfile, format string }{
		{"ws-npm", "package-lock.json", "package-lock v3"},
		{"ws-pnpm8", "pnpm-lock.yaml", "pnpm-lock 6.0"},
		{"ws-pnpm9", "pnpm-lock.yaml", "pnpm-lock 9.0"},
		{"ws-yarn1", "yarn.lock", "yarn v1"},
		{"ws-yarn1file", "yarn.lock", "yarn v1"}, // apps/web's @acme/ui is file:../../packages/ui
		{"ws-berryfile", "yarn.lock", "yarn berry"},
		{"ws-berry", "yarn.lock", "yarn berry"},
	} {
		for pkg, pkgs := range want {
			t.Run(tc.dir+"/"+pkg, func(t *testing.T) {
				l := load(t, filepath.Join("testdata", tc.dir, filepath.FromSlash(pkg)))
				if l.Format != tc.format {
					t.Errorf("format %q, want %q", l.Format, tc.format)
				}
				wantSource := pkg + ": read ../../" + tc.lockfile + ", workspace package " + names[pkg]
				if got := l.Source(); got != wantSource {
					t.Errorf("source %q, want %q", got, wantSource)
				}
				got := map[string]scopedPkg{}
				for _, p := range l.Packages {
					got[p.ID()] = scopedPkg{p.Dev, strings.Join(p.Path, " > ")}
					checkDirect(t, p, pkgs[p.ID()])
				}
				for id, w := range pkgs {
					if g, ok := got[id]; !ok {
						t.Errorf("%s missing", id)
					} else if g != w {
						t.Errorf("%s: dev=%v path %q, want dev=%v path %q", id, g.dev, g.path, w.dev, w.path)
					}
				}
				for id := range got {
					if _, ok := pkgs[id]; !ok {
						t.Errorf("%s reported, but %s does not need it", id, pkg)
					}
				}
			})
		}
	}
}

// TestWorkspaceRoot reads the same workspace at its root, where every
// workspace package is an importer: its dependencies are reached from
// it, dev when only devDependencies need them (json5, packages/ui's;
// minimist, apps/web's). yarn v1 records no workspace, so what only a
// workspace package needs was reached by nothing and reported as its
// own production root: json5 and minimist were production dependencies;
// berry's entry of one mixes its devDependencies in, so json5 and
// minimist were production there too. npm and pnpm record their
// importers; yarn reads the packages' package.json files (the file:
// fixtures lock packages/ui as a folder).
func TestWorkspaceRoot(t *testing.T) {
	want := map[string]scopedPkg{
		"debug@2.6.9":     {false, "debug@2.6.9"},
		"ms@2.0.0":        {false, "ms@2.0.0"},
		"ms@2.1.3":        {false, "ms@2.1.3"},
		"lodash@4.17.20":  {false, "lodash@4.17.20"},
		"json5@2.2.1":     {true, "json5@2.2.1"},
		"minimist@1.2.5":  {true, "minimist@1.2.5"},
		"semver@7.5.1":    {true, "semver@7.5.1"},
		"lru-cache@6.0.0": {true, "semver@7.5.1 > lru-cache@6.0.0"},
		"yallist@4.0.0":   {true, "semver@7.5.1 > lru-cache@6.0.0 > yallist@4.0.0"},
	}
	for _, dir := range []string{"ws-npm", "ws-pnpm8", "ws-pnpm9", "ws-yarn1", "ws-yarn1file", "ws-berry", "ws-berryfile"} {
		t.Run(dir, func(t *testing.T) { checkRoot(t, load(t, filepath.Join("testdata", dir)), want) })
	}
	// a package only a workspace package's dependency needs gets its
	// path from that one, and is not direct: without apps/admin's own
	// ms@2.0.0 (the lockfile still locks it for debug), ms@2.0.0 was a
	// root of its own (yarn v1), reached by nothing (npm)
	w := maps.Clone(want)
	w["ms@2.0.0"] = scopedPkg{false, "debug@2.6.9 > ms@2.0.0"}
	for _, dir := range []string{"ws-yarn1", "ws-npm"} {
		t.Run(dir+"-admin-without-ms", func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", dir))
			admin := filepath.Join(root, "apps", "admin", "package.json")
			if err := os.WriteFile(admin, []byte(`{"name":"@acme/admin","dependencies":{"lodash":"4.17.20"}}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if dir == "ws-npm" {
				lock := filepath.Join(root, "package-lock.json")
				data, _ := os.ReadFile(lock)
				s := strings.Replace(string(data), "\"lodash\": \"4.17.20\",\n        \"ms\": \"2.0.0\"", `"lodash": "4.17.20"`, 1)
				if s == string(data) {
					t.Fatal("fixture changed")
				}
				if err := os.WriteFile(lock, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			checkRoot(t, load(t, root), w)
		})
	}
}

// At a yarn root, a workspace package's dependency the lockfile does not
// lock (added to its package.json after yarn install) was skipped
// silently; it is a problem, as when the package is checked alone and in
// npm's lockfile. An optional one may be absent; a dependency on a
// workspace package (@acme/ui, which yarn v1 does not lock) is none.
func TestWorkspaceRootNotLocked(t *testing.T) {
	for _, dir := range []string{"ws-yarn1", "ws-berry"} {
		t.Run(dir, func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", dir))
			ui := filepath.Join(root, "packages", "ui", "package.json")
			body := `{"name":"@acme/ui","version":"0.1.0","dependencies":{"debug":"2.6.9","left-pad":"1.3.0"},` +
				`"optionalDependencies":{"fsevents":"2.3.3"},"devDependencies":{"json5":"2.2.1"}}`
			l := writeAndLoad(t, ui, body, root)
			want := "the workspace package packages/ui depends on left-pad@1.3.0, which the lockfile does not lock: it is out of date (run yarn install and commit yarn.lock)"
			if p := l.Problems; len(p) != 1 || p[0].Msg != want || p[0].Entry != "packages/ui" {
				t.Errorf("problems %+v, want one: %s", p, want)
			}
		})
	}
}

// A berry workspace whose package.json is missing is rooted at its
// lockfile entry, which mixes in its devDependencies: they are
// production ones, not lost.
func TestBerryWorkspaceWithoutPackageJSON(t *testing.T) {
	root := copyTree(t, "testdata/ws-berry")
	if err := os.Remove(filepath.Join(root, "packages", "ui", "package.json")); err != nil {
		t.Fatal(err)
	}
	got := map[string]Package{}
	for _, p := range load(t, root).Packages {
		got[p.ID()] = p
	}
	if p, ok := got["json5@2.2.1"]; !ok || p.Dev || len(got) != 9 {
		t.Errorf("json5 %+v (%d packages)", p, len(got))
	}
	if got["minimist@1.2.5"].Dev != true {
		t.Error("minimist, apps/web's devDependency, is production")
	}
}

func checkRoot(t *testing.T, l *Lockfile, want map[string]scopedPkg) {
	t.Helper()
	got := map[string]scopedPkg{}
	for _, p := range l.Packages {
		got[p.ID()] = scopedPkg{p.Dev, strings.Join(p.Path, " > ")}
		checkDirect(t, p, want[p.ID()])
	}
	if !maps.Equal(got, want) {
		t.Errorf("packages\n%v\nwant\n%v", got, want)
	}
}

// checkDirect checks that p is direct when the project, or a workspace
// package of the one checked (at the root: any), lists it, as w's path,
// which starts at what it lists, says: npm's lockfile marked a workspace
// package's dependencies at the root not direct, pnpm's and yarn's
// direct.
func checkDirect(t *testing.T, p Package, w scopedPkg) {
	t.Helper()
	if direct := !strings.Contains(w.path, " > "); p.Direct != direct {
		t.Errorf("%s: direct=%v, want %v", p.ID(), p.Direct, direct)
	}
}

// A yarn v1 project that is no workspace root has no importers: its
// package.json's dependencies are its roots, and what nothing reaches
// is still reported, as its own root.
func TestYarnV1NotAWorkspace(t *testing.T) {
	root := copyTree(t, "testdata/ws-yarn1")
	// the same lockfile and packages, but the root lists no workspaces
	if err := os.WriteFile(filepath.Join(root, "package.json"), []byte(`{"name":"acme","devDependencies":{"semver":"7.5.1"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]scopedPkg{}
	for _, p := range load(t, root).Packages {
		got[p.ID()] = scopedPkg{p.Dev, strings.Join(p.Path, " > ")}
	}
	if g := got["json5@2.2.1"]; g != (scopedPkg{false, "json5@2.2.1"}) || len(got) != 9 {
		t.Errorf("packages %v", got)
	}
}

// copyTree copies the fixture folder src into a new temporary folder.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// A workspace package's devDependency on another workspace package makes
// that one's dependencies development ones; a dependency of both kinds
// stays production.
func TestWorkspaceDevDependency(t *testing.T) {
	for _, dir := range []string{"ws-yarn1", "ws-berry"} {
		t.Run(dir, func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", dir))
			web := filepath.Join(root, "apps", "web", "package.json")
			data, _ := os.ReadFile(web)
			// @acme/ui moves from dependencies to devDependencies: the
			// lockfiles still lock the same packages
			s := strings.Replace(string(data), `"@acme/ui": "*",`, "", 1)
			s = strings.Replace(s, `"minimist": "1.2.5"`, `"minimist": "1.2.5", "@acme/ui": "*"`, 1)
			if s == string(data) {
				t.Fatal("fixture changed")
			}
			if err := os.WriteFile(web, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			ls, err := Load(context.Background(), filepath.Join(root, "apps", "web"))
			if err != nil || len(ls) != 1 {
				t.Fatalf("%v %v", ls, err)
			}
			for _, p := range ls[0].Packages {
				if dev := p.ID() != "ms@2.1.3"; p.Dev != dev {
					t.Errorf("%s: dev=%v, want %v", p.ID(), p.Dev, dev)
				}
			}
		})
	}
}

// A folder above that is a workspace root which does not list DIR among
// its packages, or a DIR without package.json, still fails closed with the
// error naming the lockfile above.
func TestNotAWorkspacePackage(t *testing.T) {
	root := copyTree(t, "testdata/ws-npm")
	for _, dir := range []string{"tools/gen", "apps/empty"} {
		d := filepath.Join(root, filepath.FromSlash(dir))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if dir == "tools/gen" {
			if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"gen"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(context.Background(), d)
		want := "the nearest is " + filepath.Join("..", "..", "package-lock.json") + ", in a folder above"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming the lockfile above", dir, err)
		}
	}
}

// A workspace package the root's lockfile does not know (added after it
// was written) fails closed rather than passing with nothing checked.
func TestWorkspacePackageNotLocked(t *testing.T) {
	for _, tc := range []struct{ dir, tool string }{{"ws-npm", "npm install"}, {"ws-pnpm9", "pnpm install"}} {
		root := copyTree(t, filepath.Join("testdata", tc.dir))
		d := filepath.Join(root, "apps", "new")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"new","dependencies":{"ms":"2.1.3"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), "the workspace package apps/new is not in it") || !strings.Contains(err.Error(), tc.tool) {
			t.Errorf("%s: error %v", tc.dir, err)
		}
	}
	// yarn records no workspace package: a dependency it does not lock is
	// a problem, as in npm's lockfile
	root := copyTree(t, "testdata/ws-yarn1")
	d := filepath.Join(root, "apps", "new")
	_ = os.MkdirAll(d, 0o755)
	_ = os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"new","dependencies":{"left-pad":"1.3.0"}}`), 0o644)
	ls, err := Load(context.Background(), d)
	if err != nil || len(ls) != 1 || len(ls[0].Problems) != 1 || !strings.Contains(ls[0].Problems[0].Msg, "left-pad@1.3.0, which the lockfile does not lock") {
		t.Errorf("yarn: %v %+v", err, ls)
	}
}

func TestInWorkspace(t *testing.T) {
	for _, tc := range []struct {
		globs []string
		rel   string
		want  bool
	}{
		{[]string{"apps/*"}, "apps/web", true},
		{[]string{"apps/*"}, "apps/web/src", false},
		{[]string{"./apps/*"}, "apps/web", true},
		{[]string{"packages/**"}, "packages/a/b", true},
		{[]string{"**"}, "a/b", true},
		{[]string{"apps/*", "!apps/old"}, "apps/old", false},
		{[]string{"apps/web"}, "apps/web", true},
		{[]string{"apps/w?b"}, "apps/web", true},
		{[]string{"apps/[a-z]"}, "apps/[a-z]", true},
		{nil, "apps/web", false},
	} {
		if got := inWorkspace(tc.globs, tc.rel); got != tc.want {
			t.Errorf("inWorkspace(%q, %q) = %v, want %v", tc.globs, tc.rel, got, tc.want)
		}
	}
}

// A berry workspace whose entry's first key is a range it satisfies
// ("@acme/ui@npm:*, @acme/ui@workspace:packages/ui") was reported as the
// package @acme/ui@0.0.0-use.local, which the audit looks up as a
// registry package; it is a workspace, whatever its first key.
func TestBerryWorkspaceIsNoPackage(t *testing.T) {
	l := load(t, "testdata/ws-berry")
	var ids []string
	for _, p := range l.Packages {
		ids = append(ids, p.ID())
	}
	if slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "@acme/") }) {
		t.Errorf("workspaces reported as packages: %v", ids)
	}
	if len(ids) != 9 {
		t.Errorf("%d packages, want the 9 locked: %v", len(ids), ids)
	}
}

// A workspace package without a name in the lockfile shows as its folder
// in the paths through it (it showed as "@1.0.0").
func TestWorkspacePathLabels(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"package.json":          `{"workspaces":["apps/*","packages/*"]}`,
		"apps/web/package.json": `{"name":"web","dependencies":{"b":"*"}}`,
		"package-lock.json": `{"lockfileVersion":3,"packages":{"":{"workspaces":["apps/*","packages/*"]},
  "apps/web":{"name":"web","dependencies":{"b":"*"}},
  "node_modules/b":{"link":true,"resolved":"packages/b"},
  "packages/b":{"version":"1.0.0","dependencies":{"a":"1.0.0"}},
  "node_modules/a":{"version":"1.0.0"}}}`,
	}
	for name, body := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(name)), []byte(body))
	}
	l := load(t, filepath.Join(root, "apps", "web"))
	if len(l.Packages) != 1 || strings.Join(l.Packages[0].Path, " > ") != "packages/b > a@1.0.0" {
		t.Errorf("packages %+v", l.Packages)
	}
}

// TestYarnLocalPackagesAreNoPackages reads yarn workspaces (lockfiles
// written by yarn 1.22.22 and 4.5.3) whose packages depend on folders of
// their own by file: (a workspace package, and vendor/minimist, a fork of
// minimist 1.2.5 that is no workspace package), link: and portal: (yarn 4).
// Yarn locks those as packages with a version (@acme/ui@0.1.0,
// minimist@1.2.5), which were reported as registry packages: audited
// against the advisories of the npm package of that name, listed with
// its purl in the SBOM. Like a workspace, a local package is traversed,
// not reported: at the root, and for apps/web, whose paths go through it
// and which was told its file: dependency on vendor/minimist was not
// locked.
func TestYarnLocalPackagesAreNoPackages(t *testing.T) {
	checkLocalPackages(t, map[string]map[string]scopedPkg{
		"ws-yarn1local":          localAtRoot, // the root's own file:./vendor/minimist
		"ws-berrylocal":          localAtRoot,
		"ws-yarn1local/apps/web": localInWeb,
		"ws-berrylocal/apps/web": localInWeb,
		// the existing file: fixtures: @acme/ui@0.1.0 at the root
		"ws-yarn1file": nil,
		"ws-berryfile": nil,
	})
	// without package.json too (a lockfile read alone)
	for _, dir := range []string{"ws-yarn1local", "ws-berrylocal"} {
		data, err := os.ReadFile(filepath.Join("testdata", dir, "yarn.lock"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseYarn("yarn.lock", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Packages) != 3 {
			t.Errorf("%s without package.json: %d packages, want the 3 from the registry: %+v", dir, len(l.Packages), l.Packages)
		}
	}
}

// localAtRoot are the registry packages of the fixtures with local
// packages, at their root; localInWeb those of their apps/web, whose
// paths go through the local package minimist, named as a local
// package in every format: it was "minimist@1.2.5" like the registry
// package (yarn, pnpm), or its folder alone (npm).
var (
	localAtRoot = map[string]scopedPkg{"debug@2.6.9": {false, "debug@2.6.9"}, "ms@2.0.0": {false, "ms@2.0.0"}, "ms@2.1.3": {false, "ms@2.1.3"}}
	localInWeb  = map[string]scopedPkg{"debug@2.6.9": {false, "@acme/ui@0.1.0 > debug@2.6.9"},
		"ms@2.0.0": {false, "minimist (file:vendor/minimist) > ms@2.0.0"}, "ms@2.1.3": {false, "ms@2.1.3"}}
)

// checkLocalPackages checks that the lockfile of each fixture dir of
// cases reports none of its local packages (@acme/*, and minimist,
// linked or portaled from anywhere but the registry), and, unless its
// want is nil (9 from the registry, then), the packages want.
func checkLocalPackages(t *testing.T, cases map[string]map[string]scopedPkg) {
	for _, dir := range slices.Sorted(maps.Keys(cases)) {
		t.Run(dir, func(t *testing.T) { checkLocal(t, dir, cases[dir]) })
	}
}

func checkLocal(t *testing.T, dir string, want map[string]scopedPkg) {
	l := load(t, filepath.Join("testdata", filepath.FromSlash(dir)))
	got := map[string]scopedPkg{}
	for _, p := range l.Packages {
		got[p.ID()] = scopedPkg{p.Dev, strings.Join(p.Path, " > ")}
		if want != nil {
			checkDirect(t, p, want[p.ID()])
		}
		if strings.HasPrefix(p.Name, "@acme/") || slices.Contains([]string{"minimist", "linked", "portaled"}, p.Name) && strings.Contains(p.Resolved, "file:") ||
			!IsRegistryVersion(p.Version) {
			t.Errorf("the local package %s reported (resolved %q)", p.ID(), p.Resolved)
		}
	}
	if want == nil {
		if len(got) != 9 {
			t.Errorf("%d packages, want the 9 from the registry: %v", len(got), got)
		}
		return
	}
	if !maps.Equal(got, want) {
		t.Errorf("packages\n%v\nwant\n%v", got, want)
	}
}

// TestPNPMLocalPackagesAreNoPackages reads pnpm workspaces (lockfiles
// written by pnpm 8.15.9 and 9.15.0) whose root and apps/web depend by
// file: on vendor/minimist, a folder of the project's own, and apps/web
// on the workspace package packages/ui by file:. Lockfile 6 records such
// a folder as "file:vendor/minimist" with a name and no version: each was
// a problem ("cannot tell the package name and version") and its
// dependencies went unchecked for apps/web; lockfile 9 reported the
// package minimist@file:vendor/minimist (an SBOM component), and apps/web
// did not reach what it needs. Like yarn's, a local package is traversed,
// not reported.
func TestPNPMLocalPackagesAreNoPackages(t *testing.T) {
	checkLocalPackages(t, map[string]map[string]scopedPkg{
		"ws-pnpm8local":          localAtRoot,
		"ws-pnpm9local":          localAtRoot,
		"ws-pnpm8local/apps/web": localInWeb, // packages/ui by file: too
		"ws-pnpm9local/apps/web": localInWeb, // packages/ui as a link: to its importer
	})
}

// TestNPMLocalPackagesAreNoPackages reads npm lockfiles (v3 written by npm
// 11.19.1, v1 by npm 6.14) whose project depends on vendor/minimist, a fork of
// minimist 1.2.5 kept in the repository, by file: (npm links the folder)
// and, as a devDependency mm, on a tarball packed from it
// (file:./minimist-1.2.5.tgz, not kept beside the fixture). The tarball
// was reported as the registry package minimist@1.2.5 (v3) and both as
// minimist@file:vendor/minimist and mm@file:minimist-1.2.5.tgz (v1, SBOM
// components); like a link to a folder, they are traversed, not reported.
func TestNPMLocalPackagesAreNoPackages(t *testing.T) {
	checkLocalPackages(t, map[string]map[string]scopedPkg{
		"ws-npmlocal":          localAtRoot,
		"ws-npmlocal/apps/web": localInWeb,
		"npm1local":            {"ms@2.0.0": {false, "ms@2.0.0"}},
	})
}

// At a yarn project's root, a dependency or devDependency of its own
// package.json that yarn.lock does not lock (added since yarn install)
// was skipped silently, while npm's reader and a yarn workspace
// package's report one: it is a problem, in a plain project and at a
// workspace's root. A dependency on a workspace package (by name, which
// yarn v1 does not lock, or by a workspace: range) is none; an optional
// one may be absent.
func TestYarnRootNotLocked(t *testing.T) {
	for _, tc := range []struct{ dir, own string }{
		{"yarn1", ""}, {"berry", ""},
		{"ws-yarn1", `"@acme/ui": "*"`}, {"ws-berry", `"@acme/admin": "workspace:*"`},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", tc.dir))
			pj := filepath.Join(root, "package.json")
			data, _ := os.ReadFile(pj)
			// a git range (not locked here, yarnGitRange) is not reported
			deps := `"dependencies": {"left-pad": "1.3.0", "gitdep": "github:acme/gitdep#v1"}, "optionalDependencies": {"fsevents": "2.3.3"}, "devDependencies": {`
			if tc.own != "" {
				deps += tc.own + ", "
			}
			s := strings.Replace(string(data), `"devDependencies": {`, deps, 1)
			if tc.dir == "yarn1" || tc.dir == "berry" {
				s = strings.Replace(string(data), `"dependencies": {`, `"optionalDependencies": {"fsevents": "2.3.3"}, "dependencies": {"left-pad": "1.3.0", "gitdep": "acme/gitdep", `, 1)
			}
			if s == string(data) {
				t.Fatal("fixture changed")
			}
			l := writeAndLoad(t, pj, s, root)
			want := "yarn.lock: the project depends on left-pad@1.3.0, which the lockfile does not lock: it is out of date (run yarn install and commit yarn.lock)"
			if p := l.Problems; len(p) != 1 || p[0].Error() != filepath.Join(root, want) {
				t.Errorf("problems %+v, want one: %s", p, want)
			}
		})
	}
}

// writeAndLoad writes body to file, then loads the one lockfile of dir.
func writeAndLoad(t *testing.T, file, body, dir string) *Lockfile {
	t.Helper()
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ls, err := Load(context.Background(), dir)
	if err != nil || len(ls) != 1 {
		t.Fatalf("%v %v", ls, err)
	}
	return ls[0]
}

// A pnpm lockfile (written by pnpm 9.15.0) whose project depends by file:
// on a folder outside it (../outside, a package.json saying minimist
// 6.6.6): for apps/web the reader read that folder's package.json, which
// the lockfile may point anywhere (file:../../etc). A folder outside the
// lockfile's is not read: it is a problem naming the entry, at the root
// and for apps/web.
func TestPNPMLocalOutsideTheProject(t *testing.T) {
	for _, dir := range []string{"proj", "proj/apps/web"} {
		t.Run(dir, func(t *testing.T) {
			ls, err := Load(context.Background(), filepath.Join("testdata", "ws-pnpm9outside", filepath.FromSlash(dir)))
			if err != nil || len(ls) != 1 {
				t.Fatalf("%v %v", ls, err)
			}
			l := ls[0]
			want := "its folder ../outside is outside the lockfile's folder, which the gates check: not read (keep a package of the project's own inside it)"
			if p := l.Problems; len(p) != 1 || p[0].Entry != "minimist@file:../outside" || p[0].Msg != want {
				t.Errorf("problems %+v, want one: %s", p, want)
			}
			for _, p := range l.Packages {
				if strings.Contains(strings.Join(p.Path, " "), "6.6.6") {
					t.Errorf("%s: path %v read from outside the project", p.ID(), p.Path)
				}
			}
		})
	}
}

func TestYarnGitRange(t *testing.T) {
	for rng, want := range map[string]bool{
		"github:acme/lib": true, "acme/lib": true, "acme/lib#v1.2.0": true, "git+https://example.com/a/b.git": true,
		"git@github.com:acme/lib.git": true, "https://example.com/acme/lib.git#main": true, "gitlab:acme/lib": true,
		"1.3.0": false, "^1.0.0": false, "npm:left-pad@1.3.0": false, "file:vendor/a": false, "link:../a": false,
		"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz": false, "latest": false, "./vendor/a": false, ">=1 <2": false,
	} {
		if got := yarnGitRange(rng); got != want {
			t.Errorf("yarnGitRange(%q) = %v, want %v", rng, got, want)
		}
	}
}

func TestOutsideRoot(t *testing.T) {
	for p, want := range map[string]bool{"vendor/a": false, "./vendor/a": false, "a/../b": false, "": false,
		"..": true, "../a": true, "a/../../b": true, "/etc": true, "../../etc": true} {
		if got := outsideRoot(p); got != want {
			t.Errorf("outsideRoot(%q) = %v, want %v", p, got, want)
		}
	}
}

// pnpm (9.15.0) locks a workspace package outside the lockfile's folder
// (pnpm-workspace.yaml lists ../outside) as the importer "../outside":
// its package.json was read for its label in the paths through it (as
// "minimist@6.6.6"). The lockfile says what it needs; its folder is not
// read, so its label is the folder.
func TestPNPMImporterOutsideTheProject(t *testing.T) {
	l := load(t, filepath.Join("testdata", "ws-pnpm9outside", "wsproj", "apps", "web"))
	got := map[string]string{}
	for _, p := range l.Packages {
		got[p.ID()] = strings.Join(p.Path, " > ")
	}
	if want := "../outside > ms@2.0.0"; got["ms@2.0.0"] != want {
		t.Errorf("ms@2.0.0: path %q, want %q (all: %v)", got["ms@2.0.0"], want, got)
	}
}

// berry's link: and portal: packages show in paths as local packages
// too, with the folder from the root (berry keys them by the folder from
// apps/web): without apps/web's own ms, ms@2.1.3 is reached through
// vendor/portaled.
func TestBerryPortalLabel(t *testing.T) {
	root := copyTree(t, "testdata/ws-berrylocal")
	web := filepath.Join(root, "apps", "web", "package.json")
	data, _ := os.ReadFile(web)
	s := strings.Replace(string(data), `"ms": "2.1.3",`, "", 1)
	if s == string(data) {
		t.Fatal("fixture changed")
	}
	l := writeAndLoad(t, web, s, filepath.Join(root, "apps", "web"))
	for _, p := range l.Packages {
		if p.ID() == "ms@2.1.3" {
			if got, want := strings.Join(p.Path, " > "), "portaled (portal:vendor/portaled) > ms@2.1.3"; got != want {
				t.Errorf("ms@2.1.3: path %q, want %q", got, want)
			}
			return
		}
	}
	t.Errorf("ms@2.1.3 missing: %+v", l.Packages)
}

// berry (4.5.3) keys a file: dependency of a project whose package.json
// has no name by the locator root-workspace-0b6124@workspace:., not by
// its name: the project's own minimist is locked, no problem, and what
// it needs is reached through it.
func TestBerryRootWithoutName(t *testing.T) {
	got := map[string]Package{}
	for _, p := range load(t, "testdata/berry-noname").Packages {
		got[p.ID()] = p
	}
	if p := got["ms@2.0.0"]; len(got) != 2 || !p.Direct || strings.Join(p.Path, " > ") != "ms@2.0.0" {
		t.Errorf("packages %+v", got)
	}
}

// npm's tarball of the project's own (node_modules/mm, resolved
// file:minimist-1.2.5.tgz) shows in an app's paths as a local package
// too, with its file from the root; of the two local packages leading
// to ms@2.0.0, the lexically smaller path wins.
func TestNPMTarballLabel(t *testing.T) {
	root := copyTree(t, "testdata/ws-npmlocal")
	lock := filepath.Join(root, "package-lock.json")
	data, _ := os.ReadFile(lock)
	s := strings.Replace(string(data), `"minimist": "file:../../vendor/minimist",`,
		`"minimist": "file:../../vendor/minimist", "mm": "file:../../minimist-1.2.5.tgz",`, 1)
	if s == string(data) {
		t.Fatal("fixture changed")
	}
	l := writeAndLoad(t, lock, s, filepath.Join(root, "apps", "web"))
	for _, p := range l.Packages {
		if got, want := strings.Join(p.Path, " > "), "minimist (file:minimist-1.2.5.tgz) > ms@2.0.0"; p.ID() == "ms@2.0.0" && got != want {
			t.Errorf("ms@2.0.0: path %q, want %q", got, want)
		}
	}
}

// A berry lockfile's workspace entry may name any folder
// ("evil@workspace:../outside"): at the root, the reader read the
// package.json there (its left-pad was reported as not locked). A folder
// outside the lockfile's is not read: the entry is rooted as it stands.
func TestBerryWorkspaceOutsideTheProject(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "proj")
	if err := os.CopyFS(root, os.DirFS("testdata/ws-berry")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(top, "outside", "package.json"), []byte(`{"name":"evil","dependencies":{"left-pad":"1.3.0"}}`))
	lock := filepath.Join(root, "yarn.lock")
	data, _ := os.ReadFile(lock)
	entry := "\n\"evil@workspace:../outside\":\n  version: 0.0.0-use.local\n  resolution: \"evil@workspace:../outside\"\n  languageName: unknown\n  linkType: soft\n"
	l := writeAndLoad(t, lock, string(data)+entry, root)
	if len(l.Problems) != 0 {
		t.Errorf("problems %v: read from outside the project", l.Problems)
	}
}

// The ranges yarn locks under a key other than name@range as written
// (an alias, a tarball URL, a tag, an or-range; fixtures by yarn 1.22.22
// and 4.5.3) are found, not reported as dependencies it does not lock.
func TestYarnRootRangesLocked(t *testing.T) {
	for _, dir := range []string{"yarn1ranges", "berryranges"} {
		if l := load(t, filepath.Join("testdata", dir)); len(l.Packages) != 4 {
			t.Errorf("%s: packages %+v", dir, l.Packages)
		}
	}
}
