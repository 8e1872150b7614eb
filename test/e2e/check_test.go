package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData is the workplace's real OSV advisories, beside the repository.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

// realAdvisories is the folder of the real OSV npm advisories; the test
// is skipped without it (failed with PHOENIX_REQUIRE_TOOLS=1).
func realAdvisories(t *testing.T) string {
	t.Helper()
	adv := filepath.Join(sharedData, "osv-npm")
	if _, err := os.Stat(adv); err != nil {
		if os.Getenv("PHOENIX_REQUIRE_TOOLS") == "1" {
			t.Fatalf("real advisories missing: %v", err)
		}
		t.Skip("no shared/data beside the repository")
	}
	return adv
}

func TestCheckAuditAndLicensesGateARealLockfile(t *testing.T) {
	adv := realAdvisories(t)
	data := t.TempDir()
	env := []string{"PHOENIX_DATA=" + data}
	if r := run(t, ".", env, "advisories", "import", adv); r.code != 0 || !strings.Contains(r.stdout, "imported 28 advisories") {
		t.Fatalf("import: %+v", r)
	}
	proj, _ := filepath.Abs("../../internal/scan/lockfile/testdata/npm3")
	sarif := filepath.Join(t.TempDir(), "audit.sarif")
	r := run(t, ".", env, "check", "audit", proj, "--sarif", sarif)
	if r.code != 1 || !strings.Contains(r.stdout, "GHSA-35jh-r3h4-6jhm") || !strings.Contains(r.stdout, "express@4.19.2 > body-parser@1.20.2") {
		t.Fatalf("audit must fail the gate and show paths: %+v", r)
	}
	var s struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []any `json:"results"`
		} `json:"runs"`
	}
	b, _ := os.ReadFile(sarif)
	if json.Unmarshal(b, &s) != nil || s.Version != "2.1.0" || len(s.Runs) != 1 || len(s.Runs[0].Results) < 10 {
		t.Fatalf("SARIF output: %.300s", b)
	}
	if r := run(t, ".", env, "check", "audit", proj, "--no-gate", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"pass": false`) {
		t.Fatalf("--no-gate reports without failing: %+v", r)
	}
	r = run(t, ".", env, "check", "licenses", proj)
	if r.code != 1 || !strings.Contains(r.stdout, "GPL-3.0-or-later") {
		t.Fatalf("GPL-3.0 must be visible and gate the release: %+v", r)
	}
	if r := run(t, ".", nil, "check", "audit", proj, "--data", t.TempDir()); r.code != 2 || !strings.Contains(r.stderr, "advisories import") {
		t.Fatalf("audit without a database: %+v", r)
	}
}

// TestCheckSBOMReproducible: with SOURCE_DATE_EPOCH the SBOM's timestamp
// is that time, so the same project gives the same bytes; a value that is
// no time is a usage error naming the variable.
func TestCheckSBOMReproducible(t *testing.T) {
	proj, _ := filepath.Abs("../../internal/scan/lockfile/testdata/npm3")
	env := []string{"PHOENIX_DATA=" + t.TempDir(), "SOURCE_DATE_EPOCH=1764158400"}
	var outs []string
	for range 2 {
		r := run(t, ".", env, "check", "sbom", proj, "--version", "v1.0.0")
		if r.code != 0 {
			t.Fatalf("check sbom: %+v", r)
		}
		outs = append(outs, r.stdout)
	}
	var bom struct {
		Metadata struct{ Timestamp string } `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(outs[0]), &bom); err != nil || bom.Metadata.Timestamp != "2025-11-26T12:00:00Z" {
		t.Fatalf("timestamp %q (%v); want SOURCE_DATE_EPOCH's 2025-11-26T12:00:00Z", bom.Metadata.Timestamp, err)
	}
	if outs[0] != outs[1] {
		t.Fatal("two SBOMs of one project with SOURCE_DATE_EPOCH differ")
	}
	bad := []string{"PHOENIX_DATA=" + t.TempDir(), "SOURCE_DATE_EPOCH=yesterday"}
	if r := run(t, ".", bad, "check", "sbom", proj); r.code != 2 || !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") {
		t.Fatalf("a bad SOURCE_DATE_EPOCH: %+v", r)
	}
}

// TestMonorepoAppIsChecked: a team with an npm workspace writes its
// phoenix.yaml with phoenix init --app apps/web (or phoenix init in
// apps/web), and phoenix check, in the root or in apps/web, runs the gates on apps/web's packages (read from
// the root's lockfile, which it names) rather than failing closed for the
// lockfile apps/web does not have.
func TestMonorepoAppIsChecked(t *testing.T) {
	env := []string{"PHOENIX_DATA=" + t.TempDir()}
	if r := run(t, ".", env, "advisories", "import", realAdvisories(t)); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../../internal/scan/lockfile/testdata/ws-npm")); err != nil {
		t.Fatal(err)
	}
	const note = "note: apps/web: read ../../package-lock.json, workspace package @acme/web"
	web := filepath.Join(root, "apps", "web")
	if r := run(t, root, env, "init", "--app", "apps/web"); r.code != 0 {
		t.Fatalf("init --app apps/web: %+v", r)
	}
	for _, dir := range []string{root, web} {
		r := run(t, dir, env, "check")
		if r.code != 0 || !strings.Contains(r.stdout, note) || !strings.Contains(r.stdout, "vulnerability: 1 critical in 4 packages") {
			t.Errorf("phoenix check in %s: %+v", dir, r)
		}
	}
	// or a phoenix.yaml per app, in its folder
	if err := os.Remove(filepath.Join(root, "phoenix.yaml")); err != nil {
		t.Fatal(err)
	}
	if r := run(t, web, env, "init"); r.code != 0 || !strings.Contains(r.stdout, "npm (../../package-lock.json)") {
		t.Fatalf("init in apps/web: %+v", r)
	}
	if r := run(t, web, env, "check"); r.code != 0 || !strings.Contains(r.stdout, note) || !strings.Contains(r.stdout, "vulnerability: 1 critical in 4 packages") {
		t.Errorf("phoenix check with apps/web/phoenix.yaml: %+v", r)
	}
}
