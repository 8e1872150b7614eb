package license

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	def := DefaultPolicy()
	for _, tc := range []struct {
		name, expr, want string
		p                Policy
	}{
		{"mit", "MIT", Allow, def},
		{"lowercase id", "mit", Allow, def},
		{"gpl3 flagged by default", "GPL-3.0-or-later", Review, def},
		{"deprecated gpl3 id", "GPL-3.0", Review, def},
		{"gpl3 plus", "GPL-3.0+", Review, def},
		{"or picks the better", "(MIT OR GPL-3.0-only)", Allow, def},
		{"and takes the worse", "MIT AND GPL-3.0-only", Review, def},
		{"agpl denied", "AGPL-3.0-only", Deny, def},
		{"agpl or mit", "AGPL-3.0-only OR MIT", Allow, def},
		{"with exception", "Apache-2.0 WITH LLVM-exception", Allow, def},
		{"gpl with classpath", "GPL-2.0-or-later WITH Classpath-exception-2.0", Review, def},
		{"nested", "(MIT AND (BSD-3-Clause OR GPL-2.0-only)) OR SSPL-1.0", Allow, def},
		{"empty is unknown", "", Review, def},
		{"not spdx", "SEE LICENSE IN LICENSE.md", Review, def},
		{"unknown id", "Foo-1.0", Review, def},
		{"unknown denied", "Foo-1.0", Deny, Policy{Unknown: Deny}},
		{"deny family entry", "GPL-3.0-only", Deny, Policy{Deny: []string{"GPL-3.0"}}},
		{"allow list", "ISC", Review, Policy{Allow: []string{"MIT"}}},
		{"allow list hit", "MIT", Allow, Policy{Allow: []string{"MIT"}}},
		{"explicit allow of gpl", "GPL-3.0-or-later", Allow, Policy{Allow: []string{"GPL-3.0"}}},
		{"copyleft review off", "LGPL-2.1-only", Allow, Policy{NoCopyleftReview: true}},
		{"bad syntax", "MIT AND (", Review, def},
		{"business source", "BUSL-1.1", Review, def},
		{"elastic", "Elastic-2.0", Review, def},
		{"polyform noncommercial", "PolyForm-Noncommercial-1.0.0", Review, def},
		{"no derivatives", "CC-BY-ND-4.0", Review, def},
		{"elastic or mit", "Elastic-2.0 OR MIT", Allow, def},
		{"elastic allowed", "Elastic-2.0", Allow, Policy{Allow: []string{"Elastic-2.0"}}},
		{"licenseref is unknown", "LicenseRef-Commercial", Review, def},
		{"licenseref or agpl", "AGPL-3.0-only OR LicenseRef-Proprietary", Review, def},
		{"licenseref allowed", "LicenseRef-Acme-Internal", Allow, Policy{Allow: []string{"LicenseRef-Acme-Internal"}}},
		{"licenseref unknown allowed", "LicenseRef-x", Allow, Policy{Unknown: Allow}},
		{"not an spdx exception", "Apache-2.0 WITH Commons-Clause", Review, def},
		{"not an spdx exception, denied", "MIT WITH Commons-Clause", Deny, Policy{Unknown: Deny}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _, _ := tc.p.Evaluate(tc.expr); got != tc.want {
				t.Errorf("Evaluate(%q) = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

// TestSPDXListsKnown checks every id of the real SPDX licence list
// (spdx-license-ids 3.0.24) is known to the parser, and that exceptions
// parse after WITH.
func TestSPDXListsKnown(t *testing.T) {
	var ids, exc []string
	readJSON(t, "../../../../shared/data/spdx/spdx-license-ids@3.0.24/index.json", &ids)
	readJSON(t, "../../../../shared/data/spdx/spdx-exceptions@2.5.0/index.json", &exc)
	unknown := 0
	for _, id := range ids {
		if !Known(id) {
			unknown++
			t.Logf("not known: %s", id)
		}
		if terms, err := Parse(id); err != nil || len(terms) != 1 {
			t.Errorf("Parse(%s): %v %v", id, terms, err)
		}
	}
	if unknown > len(ids)/50 { // tolerate ids newer than go-spdx's embedded list
		t.Errorf("%d of %d SPDX ids unknown", unknown, len(ids))
	}
	unknown = 0
	for _, e := range exc {
		if terms, err := Parse("GPL-2.0-only WITH " + e); err != nil || !strings.HasSuffix(terms[0][0], e) {
			t.Errorf("WITH %s: %v %v", e, terms, err)
		}
		if !Known("GPL-2.0-only WITH " + e) {
			unknown++
			t.Logf("exception not known: %s", e)
		}
	}
	if unknown > len(exc)/20 {
		t.Errorf("%d of %d SPDX exceptions unknown", unknown, len(exc))
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func TestRunFlagsGPL(t *testing.T) {
	r, err := Run(context.Background(), "../lockfile/testdata/npm3", DefaultPolicy(), Options{GoModCache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 {
		t.Fatalf("findings %+v", r.Findings)
	}
	f := r.Findings[0]
	if f.Package != "chessground" || f.Verdict != Review || f.License != "GPL-3.0-or-later" || f.Dev || len(f.DepPath) != 1 {
		t.Errorf("finding %+v", f)
	}
	if r.Stats["MIT"] < 50 || r.Scanned != len(r.Findings)+sum(r.Stats)-r.Stats["GPL-3.0-or-later"] {
		t.Errorf("stats %v scanned %d", r.Stats, r.Scanned)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestNodeModulesAndGo: package.json in node_modules wins over the
// lockfile, read where npm installed the package (an alias's folder, a
// nested copy); a package without a licence field is classified from its
// LICENSE text, one that says "SEE LICENSE IN <file>" from that file (in
// its folder); Go modules are classified from the module cache.
func TestNodeModulesAndGo(t *testing.T) {
	proj, cache := t.TempDir(), t.TempDir()
	write := func(path, content string) { writeFile(t, path, content) }
	gpl, _ := os.ReadFile("testdata/GPL-3.txt")
	bsd, _ := os.ReadFile("testdata/BSD-3-Clause.txt")
	write(filepath.Join(proj, "package-lock.json"), `{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1","b":"1","c":"1"}},
	"node_modules/a":{"version":"1.0.0","license":"MIT"},"node_modules/b":{"version":"1.0.0"},"node_modules/c":{"version":"2.0.0"},
	"node_modules/d-alias":{"name":"d","version":"1.0.0"},"node_modules/e":{"version":"1.0.0","license":"MIT"},
	"node_modules/a/node_modules/e":{"version":"2.0.0"},"node_modules/f":{"version":"1.0.0"},"node_modules/g":{"version":"1.0.0"}}}`)
	write(filepath.Join(proj, "node_modules/a/package.json"), `{"version":"1.0.0","licenses":[{"type":"MIT"},{"type":"AGPL-3.0-only"}]}`)
	write(filepath.Join(proj, "node_modules/b/package.json"), `{"version":"1.0.0"}`)
	write(filepath.Join(proj, "node_modules/b/LICENSE"), string(gpl))
	write(filepath.Join(proj, "go.mod"), "module x\n\nrequire golang.org/x/text v0.3.7\n")
	write(filepath.Join(proj, "node_modules/d-alias/package.json"), `{"name":"d","version":"1.0.0","license":"GPL-3.0-only"}`)
	write(filepath.Join(proj, "node_modules/a/node_modules/e/package.json"), `{"version":"2.0.0","license":"ISC"}`)
	write(filepath.Join(proj, "node_modules/f/package.json"), `{"version":"1.0.0","license":"SEE LICENSE IN docs/LICENSE.md"}`)
	write(filepath.Join(proj, "node_modules/f/docs/LICENSE.md"), string(bsd))
	write(filepath.Join(proj, "node_modules/g/package.json"), `{"version":"1.0.0","license":"SEE LICENSE IN ../f/docs/LICENSE.md"}`)
	write(filepath.Join(cache, "golang.org/x/text@v0.3.7/LICENSE"), string(bsd))
	r, err := Run(context.Background(), proj, DefaultPolicy(), Options{GoModCache: cache, All: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Package] = f.License + " " + f.Verdict
	}
	for _, f := range r.Findings {
		if f.Package == "e" && f.Version == "2.0.0" {
			got["e@2"] = f.License + " " + f.Verdict
		}
	}
	want := map[string]string{"a": "(MIT OR AGPL-3.0-only) allow", "b": "GPL-3.0 review", "c": " review", "golang.org/x/text": "BSD-3-Clause allow",
		"d": "GPL-3.0-only review", "e@2": "ISC allow", "f": "BSD-3-Clause allow", "g": "SEE LICENSE IN ../f/docs/LICENSE.md review"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

// TestUnreadableLockfileNamedOnce: a lockfile that does not parse is named
// once, from the folder ("package-lock.json: not a valid npm lockfile"),
// not as "site: /abs/site/package-lock.json: …", and a folder without one
// is not "site: site: no lockfile found".
func TestUnreadableLockfileNamedOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte("{\"lockfileVersion\": 3,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "site")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{dir: "package-lock.json: not a valid npm lockfile: line 2", empty: empty + ": no lockfile found"} {
		r, err := Run(context.Background(), d, DefaultPolicy(), Options{GoModCache: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) != 1 || r.Problems[0].File != "" || !strings.HasPrefix(r.Problems[0].String(), want) {
			t.Errorf("%s: problems %+v, want one starting %q", d, r.Problems, want)
		}
	}
}

// TestNotInstalledSaysWhy: a pnpm lockfile records no licence, so without
// node_modules every package was "review -" with no word why.
func TestNotInstalledSaysWhy(t *testing.T) {
	r, err := Run(context.Background(), "../lockfile/testdata/pnpm9", DefaultPolicy(), Options{GoModCache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d of %d packages of pnpm-lock.yaml have no licence: it records none, and there is no node_modules", r.Scanned, r.Scanned)
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", r.Warnings, want)
	}
	if r, _ := Run(context.Background(), "../lockfile/testdata/npm3", DefaultPolicy(), Options{GoModCache: t.TempDir()}); len(r.Warnings) != 0 {
		t.Errorf("npm v3 records the licences, yet: %q", r.Warnings)
	}
}

// TestPNPMStore: pnpm installs a project's dependencies' own dependencies
// only in node_modules/.pnpm/<name>@<version>/node_modules/<name> (peers
// after the version), so their licences were unknown although installed.
func TestPNPMStore(t *testing.T) {
	proj := t.TempDir()
	lock, err := os.ReadFile("../lockfile/testdata/pnpm9/pnpm-lock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"pnpm-lock.yaml": string(lock),
		"node_modules/.pnpm/body-parser@1.20.2/node_modules/body-parser/package.json":                  `{"version":"1.20.2","license":"ISC"}`,
		"node_modules/.pnpm/side-channel-map@1.0.1_x@1.0.0/node_modules/side-channel-map/package.json": `{"version":"1.0.1","license":"0BSD"}`,
		"node_modules/.pnpm/side-channel-map@1.0.10/node_modules/side-channel-map/package.json":        `{"version":"1.0.10","license":"GPL-3.0-only"}`,
		"node_modules/.pnpm/bytes@3.1.2/node_modules/bytes/package.json":                               `{"version":"3.1.1","license":"GPL-3.0-only"}`,
	}
	for name, body := range files {
		writeFile(t, filepath.Join(proj, filepath.FromSlash(name)), body)
	}
	r, err := Run(context.Background(), proj, DefaultPolicy(), Options{GoModCache: t.TempDir(), All: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Package] = f.License
	}
	for pkg, want := range map[string]string{"body-parser": "ISC", "side-channel-map": "0BSD", "bytes": "", "accepts": ""} {
		if got[pkg] != want {
			t.Errorf("%s: licence %q, want %q", pkg, got[pkg], want)
		}
	}
}

// writeFile writes content to path, making its folder.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWorkspacePackage: apps/web of a workspace has no lockfile (nor
// node_modules) of its own; its packages' licences are read where the
// root's lockfile installs them: the root's node_modules, or apps/web's
// own for the version only it needs (ms 2.1.3, the root holding 2.0.0).
func TestWorkspacePackage(t *testing.T) {
	for _, dir := range []string{"ws-npm", "ws-yarn1", "ws-pnpm9"} {
		t.Run(dir, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join("../lockfile/testdata", dir)
			err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				rel, _ := filepath.Rel(src, p)
				writeFile(t, filepath.Join(root, rel), string(data))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			web := filepath.Join(root, "apps", "web")
			r, err := Run(context.Background(), web, DefaultPolicy(), Options{GoModCache: t.TempDir(), All: true})
			if err != nil {
				t.Fatal(err)
			}
			if dir != "ws-npm" && (len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "there is no node_modules")) {
				t.Errorf("warnings %q, want one saying nothing is installed", r.Warnings)
			}
			installed := map[string]string{
				"node_modules/ms/package.json":          `{"version":"2.0.0","license":"0BSD"}`,
				"apps/web/node_modules/ms/package.json": `{"version":"2.1.3","license":"Unlicense"}`,
				"node_modules/debug/package.json":       `{"version":"2.6.9","license":"BSD-2-Clause"}`,
				"node_modules/minimist/package.json":    `{"version":"1.2.5","license":"ISC"}`,
			}
			if dir == "ws-pnpm9" {
				installed = map[string]string{
					"node_modules/.pnpm/ms@2.0.0/node_modules/ms/package.json":             `{"version":"2.0.0","license":"0BSD"}`,
					"node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json":             `{"version":"2.1.3","license":"Unlicense"}`,
					"node_modules/.pnpm/debug@2.6.9/node_modules/debug/package.json":       `{"version":"2.6.9","license":"BSD-2-Clause"}`,
					"node_modules/.pnpm/minimist@1.2.5/node_modules/minimist/package.json": `{"version":"1.2.5","license":"ISC"}`,
				}
			}
			for name, body := range installed {
				writeFile(t, filepath.Join(root, filepath.FromSlash(name)), body)
			}
			r, err = Run(context.Background(), web, DefaultPolicy(), Options{GoModCache: t.TempDir(), All: true})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range r.Findings {
				got[f.Package+"@"+f.Version] = f.License
			}
			want := map[string]string{"ms@2.0.0": "0BSD", "ms@2.1.3": "Unlicense", "debug@2.6.9": "BSD-2-Clause", "minimist@1.2.5": "ISC"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("licences %v, want %v", got, want)
			}
			if len(r.Warnings) != 0 || len(r.Problems) != 0 {
				t.Errorf("warnings %q, problems %v", r.Warnings, r.Problems)
			}
			if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], "apps/web: read ../../") {
				t.Errorf("notes %q", r.Notes)
			}
		})
	}
}
