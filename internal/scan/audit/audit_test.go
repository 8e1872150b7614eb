package audit

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func openReal(t *testing.T) *osv.DB {
	t.Helper()
	dir := t.TempDir()
	if _, err := osv.Import(context.Background(), "../../../../shared/data/osv-npm", dir, now); err != nil {
		t.Fatal(err)
	}
	db, err := osv.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func keys(r *report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		scope := "prod"
		if f.Dev {
			scope = "dev"
		}
		out = append(out, f.RuleID+" "+f.Package+"@"+f.Version+" "+scope+" fixed:"+f.FixedIn)
	}
	sort.Strings(out)
	return out
}

var want = []string{
	"GHSA-29mw-wpgm-hmr9 lodash@4.17.20 prod fixed:4.17.21",
	"GHSA-35jh-r3h4-6jhm lodash@4.17.20 prod fixed:4.17.21",
	"GHSA-4w2v-q235-vp99 axios@0.21.0 prod fixed:0.21.1",
	"GHSA-9c47-m6qq-7p4h json5@2.2.1 dev fixed:2.2.2",
	"GHSA-9wv6-86v2-598j path-to-regexp@0.1.7 prod fixed:0.1.10",
	"GHSA-c2qf-rxjj-qqgw semver@7.5.1 dev fixed:7.5.2",
	"GHSA-cm22-4g7w-348p serve-static@1.15.0 prod fixed:1.16.0",
	"GHSA-cph5-m8f7-6c5x axios@0.21.0 prod fixed:0.21.2",
	"GHSA-m6fv-jmcg-4jfg send@0.18.0 prod fixed:0.19.0",
	"GHSA-pxg6-pf52-xh8x cookie@0.6.0 prod fixed:0.7.0",
	"GHSA-qw6h-vgh9-j6wx express@4.19.2 prod fixed:4.20.0",
	"GHSA-qwcr-r2fm-qrc7 body-parser@1.20.2 prod fixed:1.20.3",
	"GHSA-wf5p-g6vw-rhxx axios@0.21.0 prod fixed:1.6.0",
	"GHSA-xvch-5gv4-984h minimist@1.2.5 dev fixed:1.2.6",
}

// TestAllFormats audits the same project locked by every supported tool
// against the real advisories: the findings must be identical.
func TestAllFormats(t *testing.T) {
	db := openReal(t)
	for _, dir := range []string{"npm1", "npm2", "npm3", "pnpm8", "pnpm9", "yarn1", "berry"} {
		t.Run(dir, func(t *testing.T) {
			r, err := Run(context.Background(), filepath.Join("../lockfile/testdata", dir), db, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Problems) > 0 {
				t.Fatalf("problems: %v", r.Problems)
			}
			got := keys(r)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, f := range r.Findings {
				if f.Package == "cookie" && strings.Join(f.DepPath, ">") != "express@4.19.2>cookie@0.6.0" {
					t.Errorf("cookie path %v", f.DepPath)
				}
			}
		})
	}
}

func TestGate(t *testing.T) {
	db := openReal(t)
	r, err := Run(context.Background(), "../lockfile/testdata/npm3", db, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	d := report.Gate(report.Policy{}, r, now)
	if d.Pass {
		t.Fatal("high findings in production passed the default gate")
	}
	for _, r := range d.Reasons {
		if strings.Contains(r, "minimist") || strings.Contains(r, "moderate") {
			t.Errorf("default gate failed on a dev or moderate finding: %s", r)
		}
	}
	if len(d.Reasons) != 4 { // lodash 35jh, axios cph5, body-parser, path-to-regexp
		t.Errorf("reasons %v", d.Reasons)
	}
	var ex []report.Exception
	for _, id := range []string{"GHSA-35jh-r3h4-6jhm", "GHSA-cph5-m8f7-6c5x", "GHSA-qwcr-r2fm-qrc7"} {
		ex = append(ex, report.Exception{ID: id, Reason: "not reachable from our code", Expires: now.AddDate(0, 1, 0)})
	}
	ex = append(ex, report.Exception{ID: "CVE-2024-45296", Package: "path-to-regexp", Reason: "old", Expires: now.AddDate(0, 0, -1)})
	d = report.Gate(report.Policy{Exceptions: ex}, r, now)
	if d.Pass || len(d.Applied) != 3 || len(d.Expired) != 1 || len(d.Reasons) != 1 {
		t.Fatalf("decision %+v", d)
	}
	ex[3].Expires = now // the last day still counts
	d = report.Gate(report.Policy{Exceptions: ex}, r, now)
	if !d.Pass {
		t.Fatalf("all excepted but failed: %+v", d)
	}
	d = report.Gate(report.Policy{Exceptions: ex, IncludeDev: true}, r, now)
	if d.Pass || !strings.Contains(strings.Join(d.Reasons, "\n"), "minimist") {
		t.Errorf("dev gate: %+v", d)
	}
}

// TestBadLockfileFailsClosed: a malformed lockfile is a problem naming the
// file; the other lockfile is still audited; the gate fails.
func TestBadLockfileFailsClosed(t *testing.T) {
	advDir, dbDir, proj := t.TempDir(), t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(advDir, "GO-1.json"), []byte(`{"id":"GO-2022-1059","summary":"x/text DoS","database_specific":{"severity":"HIGH"},
	 "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}]}]}`), 0o644)
	if _, err := osv.Import(context.Background(), advDir, dbDir, now); err != nil {
		t.Fatal(err)
	}
	db, _ := osv.Open(dbDir)
	defer db.Close()
	os.WriteFile(filepath.Join(proj, "package-lock.json"), []byte("{\"packages\": {"), 0o644)
	data, _ := os.ReadFile("../lockfile/testdata/gomod/go.mod")
	os.WriteFile(filepath.Join(proj, "go.mod"), data, 0o644)
	r, err := Run(context.Background(), proj, db, Options{Now: now.AddDate(0, 2, 0), MaxAge: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].FixedIn != "0.3.8" || r.Findings[0].File != "go.mod" || r.Findings[0].Line != 6 {
		t.Fatalf("findings %+v", r.Findings)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].String(), "package-lock.json") {
		t.Fatalf("problems %v", r.Problems)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "days ago") {
		t.Errorf("warnings %v", r.Warnings)
	}
	d := report.Gate(report.Policy{Exceptions: []report.Exception{{ID: "GO-2022-1059", Reason: "r", Expires: now.AddDate(1, 0, 0)}}}, r, now)
	if d.Pass {
		t.Fatal("gate passed with an unreadable lockfile")
	}
}

// TestWorkspacePackage audits apps/web of a workspace, which has no
// lockfile of its own, in the root's lockfile of each tool: only what
// apps/web needs is audited (lodash, apps/admin's, and semver, the
// root's, are not), the findings name the root's lockfile, and a note
// says it was read.
func TestWorkspacePackage(t *testing.T) {
	db := openReal(t)
	for _, tc := range []struct{ dir, lockfile string }{
		{"ws-npm", "package-lock.json"}, {"ws-pnpm8", "pnpm-lock.yaml"}, {"ws-pnpm9", "pnpm-lock.yaml"},
		{"ws-yarn1", "yarn.lock"}, {"ws-berry", "yarn.lock"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			r, err := Run(context.Background(), filepath.Join("../lockfile/testdata", tc.dir, "apps", "web"), db, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Problems) > 0 {
				t.Fatalf("problems: %v", r.Problems)
			}
			got := strings.Join(keys(r), "\n")
			if want := "GHSA-xvch-5gv4-984h minimist@1.2.5 dev fixed:1.2.6"; got != want {
				t.Errorf("findings:\n%s\nwant:\n%s", got, want)
			}
			if r.Scanned != 4 {
				t.Errorf("%d packages audited, want apps/web's 4", r.Scanned)
			}
			note := "apps/web: read ../../" + tc.lockfile + ", workspace package @acme/web"
			if len(r.Notes) != 1 || r.Notes[0] != note {
				t.Errorf("notes %q, want %q", r.Notes, note)
			}
			if len(r.Findings) == 1 && r.Findings[0].File != "../../"+tc.lockfile {
				t.Errorf("finding's file %q", r.Findings[0].File)
			}
		})
	}
}

// TestWorkspaceRoot audits a workspace at its root, whose workspace
// packages' devDependencies are dev there too: yarn v1 records no
// workspace and berry's entry of one mixes in its devDependencies, and
// json5 (packages/ui's) and minimist (apps/web's) were audited as
// production dependencies, so the default gate failed on minimist's
// critical advisory, a dev one.
func TestWorkspaceRoot(t *testing.T) {
	db := openReal(t)
	want := []string{
		"GHSA-29mw-wpgm-hmr9 lodash@4.17.20 prod fixed:4.17.21",
		"GHSA-35jh-r3h4-6jhm lodash@4.17.20 prod fixed:4.17.21",
		"GHSA-9c47-m6qq-7p4h json5@2.2.1 dev fixed:2.2.2",
		"GHSA-c2qf-rxjj-qqgw semver@7.5.1 dev fixed:7.5.2",
		"GHSA-xvch-5gv4-984h minimist@1.2.5 dev fixed:1.2.6",
	}
	for _, dir := range []string{"ws-npm", "ws-pnpm9", "ws-yarn1", "ws-yarn1file", "ws-berry", "ws-berryfile"} {
		t.Run(dir, func(t *testing.T) {
			r, err := Run(context.Background(), filepath.Join("../lockfile/testdata", dir), db, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(r); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, reason := range report.Gate(report.Policy{}, r, now).Reasons {
				if !strings.Contains(reason, "lodash") {
					t.Errorf("the default gate failed on a dev finding: %s", reason)
				}
			}
		})
	}
}

// TestLocalPackageIsNotAudited audits yarn (1 and 4), pnpm (8 and 9) and
// npm workspaces whose root and apps/web depend by file: on vendor/minimist,
// a fork of minimist 1.2.5 kept in the repository: yarn's was audited as
// the npm package minimist@1.2.5 and reported with its critical advisory,
// pnpm 8's was a problem; npm's tarball packed from it (file:…tgz) was
// audited as minimist@1.2.5. It is no registry package; what it depends on
// (ms@2.0.0) is still audited.
func TestLocalPackageIsNotAudited(t *testing.T) {
	db := openReal(t)
	for _, dir := range []string{"ws-yarn1local", "ws-berrylocal", "ws-yarn1local/apps/web", "ws-berrylocal/apps/web",
		"ws-pnpm8local", "ws-pnpm9local", "ws-pnpm8local/apps/web", "ws-pnpm9local/apps/web", "ws-npmlocal", "ws-npmlocal/apps/web"} {
		t.Run(dir, func(t *testing.T) {
			r, err := Run(context.Background(), filepath.Join("../lockfile/testdata", filepath.FromSlash(dir)), db, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Problems) > 0 || len(r.Findings) > 0 {
				t.Errorf("problems %v, findings %v", r.Problems, keys(r))
			}
			if r.Scanned != 3 {
				t.Errorf("%d packages audited, want debug@2.6.9, ms@2.0.0 and ms@2.1.3", r.Scanned)
			}
		})
	}
}
