package lockfile

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func load(t *testing.T, dir string) *Lockfile {
	t.Helper()
	ls, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	if len(ls) != 1 {
		t.Fatalf("Load(%s): %d lockfiles, want 1", dir, len(ls))
	}
	if len(ls[0].Problems) > 0 {
		t.Fatalf("problems: %v", ls[0].Problems)
	}
	return ls[0]
}

func byID(l *Lockfile) map[string]Package {
	m := map[string]Package{}
	for _, p := range l.Packages {
		if prev, ok := m[p.ID()]; ok && !prev.Dev {
			continue // keep the production instance of a duplicated package
		}
		m[p.ID()] = p
	}
	return m
}

// TestFormatsAgree reads the same project locked by npm (v1, v2, v3), pnpm
// (v6, v9) and yarn (v1, berry): all must find the same packages with the
// same prod/dev split.
func TestFormatsAgree(t *testing.T) {
	ref := byID(load(t, "testdata/npm3"))
	if len(ref) < 60 {
		t.Fatalf("reference has %d packages", len(ref))
	}
	for _, tc := range []struct{ dir, format string }{
		{"npm1", "package-lock v1"}, {"npm2", "package-lock v2"}, {"npm3", "package-lock v3"},
		{"pnpm8", "pnpm-lock 6.0"}, {"pnpm9", "pnpm-lock 9.0"}, {"yarn1", "yarn v1"}, {"berry", "yarn berry"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			l := load(t, filepath.Join("testdata", tc.dir))
			if l.Format != tc.format {
				t.Errorf("format %q, want %q", l.Format, tc.format)
			}
			got := byID(l)
			for id, want := range ref {
				p, ok := got[id]
				if !ok {
					t.Errorf("%s missing", id)
					continue
				}
				if p.Dev != want.Dev {
					t.Errorf("%s: dev=%v, want %v", id, p.Dev, want.Dev)
				}
				if len(p.Path) == 0 || p.Path[len(p.Path)-1] != id {
					t.Errorf("%s: path %v does not end at the package", id, p.Path)
				}
			}
			for id := range got {
				if _, ok := ref[id]; !ok {
					t.Errorf("%s found but not in the npm v3 reference", id)
				}
			}
		})
	}
}

func TestPaths(t *testing.T) {
	for _, dir := range []string{"npm1", "npm2", "npm3", "pnpm8", "pnpm9", "yarn1", "berry"} {
		t.Run(dir, func(t *testing.T) {
			m := byID(load(t, filepath.Join("testdata", dir)))
			cases := map[string][]string{
				"lodash@4.17.20":          {"lodash@4.17.20"},
				"follow-redirects@1.15.6": nil, // set below: axios@0.21.0 pulls it
				"ms@2.1.3":                {"express@4.19.2", "send@0.18.0", "ms@2.1.3"},
				"minimist@1.2.5":          {"minimist@1.2.5"},
			}
			delete(cases, "follow-redirects@1.15.6")
			for id, want := range cases {
				if got := m[id].Path; !slices.Equal(got, want) {
					t.Errorf("%s: path %v, want %v", id, got, want)
				}
			}
			if p := m["lodash@4.17.20"]; !p.Direct || p.Dev {
				t.Errorf("lodash: direct=%v dev=%v, want direct prod", p.Direct, p.Dev)
			}
			if p := m["minimist@1.2.5"]; !p.Dev {
				t.Errorf("minimist is a devDependency, got prod")
			}
		})
	}
}

func TestNPMLicenseRecorded(t *testing.T) {
	m := byID(load(t, "testdata/npm3"))
	if got := m["chessground@9.2.1"].License; got != "GPL-3.0-or-later" {
		t.Errorf("chessground license %q", got)
	}
}

func TestPNPM5(t *testing.T) {
	data, err := os.ReadFile("testdata/pnpm5.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParsePNPM("pnpm-lock.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	m := byID(l)
	want := map[string]bool{"lodash@4.17.20": false, "minimist@1.2.5": true, "react-dom@17.0.2": false, "react@17.0.2": false, "loose-envify@1.4.0": false}
	if len(m) != len(want) {
		t.Errorf("got %d packages, want %d: %v", len(m), len(want), m)
	}
	for id, dev := range want {
		if p, ok := m[id]; !ok || p.Dev != dev {
			t.Errorf("%s: found=%v dev=%v, want dev=%v", id, ok, p.Dev, dev)
		}
	}
	if got := m["loose-envify@1.4.0"].Path; len(got) != 2 {
		t.Errorf("loose-envify path %v, want via react-dom or react", got)
	}
}

func TestGo(t *testing.T) {
	l := load(t, "testdata/gomod")
	m := byID(l)
	if _, ok := m["github.com/gorilla/websocket@v1.4.1"]; !ok {
		t.Errorf("replace not applied: %v", m)
	}
	if p := m["golang.org/x/net@v0.0.0-20211112202133-69e39bad7dc2"]; p.Direct || p.Ecosystem != Go {
		t.Errorf("x/net: %+v", p)
	}
	if p := m["golang.org/x/text@v0.3.7"]; !p.Direct || p.Line != 6 {
		t.Errorf("x/text: %+v", p)
	}
	data, _ := os.ReadFile("testdata/gomod/go.sum")
	s, err := ParseGoSum("go.sum", data)
	if err != nil || len(s.Packages) != 3 || len(s.Problems) != 0 {
		t.Errorf("go.sum: %v %+v", err, s)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, file, data string
		wantErr          string // whole file rejected
		wantProblem      string // one entry skipped
	}{
		{"npm syntax", "package-lock.json", "{\n  \"packages\": {,\n}", "line 2 column", ""},
		{"npm bad entry", "package-lock.json", `{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},"node_modules/a":{"version":1},"node_modules/b":{"version":"1.0.0"}}}`, "", `entry "node_modules/a"`},
		{"npm not a lockfile", "package-lock.json", `{"name":"x"}`, "neither", ""},
		{"pnpm bad yaml", "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: [", "not a valid pnpm lockfile", ""},
		{"pnpm bad entry", "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    dependencies: [1]\n  b@1.0.0: {}\n", "", `entry "a@1.0.0"`},
		{"yarn v1 no version", "yarn.lock", "# yarn lockfile v1\n\na@^1:\n  resolved \"x\"\n\nb@^1:\n  version \"1.0.0\"\n", "", `yarn.lock:3: entry "a@^1": no version`},
		{"go.sum bad line", "go.sum", "golang.org/x/text v0.3.7\nexample.com/a v1.0.0 h1:abc=\n", "", "go.sum:1"},
		{"go.mod bad", "go.mod", "module x\nrequire (\n", "not a valid go.mod", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(tc.file, []byte(tc.data), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.file) {
					t.Fatalf("err = %v, want one naming %s and %q", err, tc.file, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Problems) == 0 || !strings.Contains(l.Problems[0].Error(), tc.wantProblem) {
				t.Fatalf("problems %v, want %q", l.Problems, tc.wantProblem)
			}
			if len(l.Packages) == 0 {
				t.Errorf("the good entries were dropped too")
			}
		})
	}
}

func TestLoadNoLockfile(t *testing.T) {
	_, err := Load(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no lockfile") {
		t.Fatalf("err = %v", err)
	}
}

// A package-lock.json out of step with package.json (a dependency it does
// not lock) passed the audit with nothing to check: each required
// dependency it does not lock is a problem naming the entry; optional and
// peer ones may be absent.
func TestNPMUnlockedDependencies(t *testing.T) {
	data := `{"lockfileVersion": 3, "packages": {
  "": {"dependencies": {"a": "^1.0.0", "lodash": "4.17.20"}, "devDependencies": {"vitest": "^2"},
       "optionalDependencies": {"fsevents": "^2"}},
  "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2"}, "peerDependencies": {"react": "*"}}
}}`
	want := []string{
		`package-lock.json:2: the project depends on lodash@4.17.20, which the lockfile does not lock: it is out of date (run npm install and commit package-lock.json)`,
		`package-lock.json:2: the project depends on vitest@^2, which the lockfile does not lock: it is out of date (run npm install and commit package-lock.json)`,
		`package-lock.json:4: entry "node_modules/a": depends on b@^2, which the lockfile does not lock: it is out of date (run npm install and commit package-lock.json)`,
	}
	npmProblems(t, data, want)
}

// npmProblems parses data as a package-lock.json and checks its problems
// are want, in any order.
func npmProblems(t *testing.T, data string, want []string) {
	t.Helper()
	l, err := Parse("package-lock.json", []byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range l.Problems {
		got = append(got, p.Error())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A malformed entry is reported at its field's line in JSON's terms (it
// read "json: cannot unmarshal number into Go struct field
// npmEntry.version of type string" at the entry's line), and is not also
// reported as a dependency the lockfile does not lock.
func TestNPMMalformedEntryNamesTheField(t *testing.T) {
	data := "{\"lockfileVersion\": 3, \"packages\": {\n" +
		"  \"\": {\"dependencies\": {\"a\": \"^1\", \"b\": \"^1\"}},\n" +
		"  \"node_modules/a\": {\n    \"license\": \"MIT\",\n    \"version\": 1\n  },\n" +
		"  \"node_modules/b\": {\"version\": \"1.0.0\", \"dependencies\": \"a\"}\n}}"
	want := []string{
		`package-lock.json:5: entry "node_modules/a": malformed entry: "version" is a JSON number, want a string (run npm install to write the lockfile again)`,
		`package-lock.json:7: entry "node_modules/b": malformed entry: "dependencies" is a JSON string, want an object (run npm install to write the lockfile again)`,
	}
	npmProblems(t, data, want)
}

// TestNoLockfileNamesTheWorkspaceRoots: an app of a workspace has no
// lockfile of its own; "no lockfile found; run npm install" sent its team
// to run what they had run. The error names the root's lockfile, and the
// search stops at the repository's top.
func TestNoLockfileNamesTheWorkspaceRoots(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "repo", "apps", "web")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path string) {
		if err := os.WriteFile(path, []byte(`{"lockfileVersion":3,"packages":{}}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "package-lock.json")) // outside the repository: not named once .git is there
	write(filepath.Join(root, "repo", "pnpm-lock.yaml"))
	_, err := Load(context.Background(), app)
	if err == nil || !strings.Contains(err.Error(), "the nearest is "+filepath.Join("..", "..", "pnpm-lock.yaml")+", in a folder above") {
		t.Errorf("error %v, want it to name ../../pnpm-lock.yaml", err)
	}
	if err := os.Remove(filepath.Join(root, "repo", "pnpm-lock.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "repo", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), app); err == nil || strings.Contains(err.Error(), "nearest") {
		t.Errorf("error %v, want none named outside the repository", err)
	}
}
