package action

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// sbomProject is a package with a lockfile of one dependency.
var sbomProject = map[string]string{
	"package.json": `{"name": "site", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}}`,
	"package-lock.json": `{"name": "site", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "site", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}},
  "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", "license": "WTFPL"}}}`,
}

// The check/sbom step stamps the SBOM with the step's SOURCE_DATE_EPOCH
// when it has one (a reproducible SBOM, like the artifact's manifest), the
// clock otherwise; a value that is no time fails the step naming it.
func TestCheckSBOMHonoursSourceDateEpoch(t *testing.T) {
	clock := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	d := &Deps{Now: func() time.Time { return clock }}
	stamp := func(env []string) (string, error) {
		dir := t.TempDir()
		write(t, dir, sbomProject)
		sc, _, _ := newContext(t, dir, nil, env)
		if err := d.checkSBOM(context.Background(), sc); err != nil {
			return "", err
		}
		b, err := os.ReadFile(filepath.Join(sc.Files, "sbom.cdx.json"))
		var bom struct {
			Metadata struct{ Timestamp string } `json:"metadata"`
		}
		if err == nil {
			err = json.Unmarshal(b, &bom)
		}
		return bom.Metadata.Timestamp, err
	}
	if got, err := stamp([]string{"SOURCE_DATE_EPOCH=1764158400"}); err != nil || got != "2025-11-26T12:00:00Z" {
		t.Errorf("with SOURCE_DATE_EPOCH: %q, %v; want 2025-11-26T12:00:00Z", got, err)
	}
	if got, err := stamp(nil); err != nil || got != "2026-11-26T09:30:00Z" {
		t.Errorf("without: %q, %v; want the clock's 2026-11-26T09:30:00Z", got, err)
	}
	if _, err := stamp([]string{"SOURCE_DATE_EPOCH=soon"}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("a bad SOURCE_DATE_EPOCH: %v", err)
	}
}

// TestCheckSBOMFailsClosedAndWritesSPDX: the step fails, writing nothing,
// without a lockfile (an SBOM missing packages must not pass for a whole
// one), and writes SPDX 2.3 when checks.sbom.format asks for it.
func TestCheckSBOMFailsClosedAndWritesSPDX(t *testing.T) {
	d := &Deps{Now: time.Now}
	dir := t.TempDir()
	write(t, dir, map[string]string{"package.json": `{"name": "site", "version": "1.0.0"}`})
	sc, _, _ := newContext(t, dir, nil, nil)
	if err := d.checkSBOM(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "sbom gate failed") {
		t.Fatalf("no lockfile: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sc.Files, "sbom.cdx.json")); !os.IsNotExist(err) {
		t.Fatalf("an SBOM was written without a lockfile: %v", err)
	}
	dir = t.TempDir()
	write(t, dir, sbomProject)
	cfg, err := config.Parse([]byte("project: {name: site}\nchecks: {sbom: {format: spdx}}\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, _, outs := newContext(t, dir, cfg, nil)
	if err := d.checkSBOM(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(sc.Files, "sbom.spdx.json"))
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil || doc.SPDXVersion != "SPDX-2.3" || !strings.Contains(string(b), "pkg:npm/left-pad@1.3.0") || outs["path"] == "" {
		t.Fatalf("spdx: %v, version %q, outputs %v\n%s", err, doc.SPDXVersion, outs, b)
	}
}

// TestCheckSBOMOfAWorkspaceAppSaysWhichLockfile: a release's check-sbom
// step in an app of an npm workspace (build.app: apps/web) logs the
// workspace root's lockfile it read, as check-audit's and
// check-licenses' logs do (it said only how many components it wrote).
func TestCheckSBOMOfAWorkspaceAppSaysWhichLockfile(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../../scan/lockfile/testdata/ws-npm")); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(root, "apps", "web")
	sc, log, _ := newContext(t, app, nil, nil)
	sc.WorkDir = app
	if err := (&Deps{Now: time.Now}).checkSBOM(context.Background(), sc); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !strings.Contains(log.String(), "note: ") || !strings.Contains(log.String(), "read ../../package-lock.json, workspace package @acme/web") {
		t.Errorf("the step's log does not name the lockfile read:\n%s", log)
	}
}
