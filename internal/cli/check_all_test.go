package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkAllJSON is phoenix check [DIR] -o json, as far as the tests read it.
type checkAllJSON struct {
	Dir    string   `json:"dir"`
	Pass   bool     `json:"pass"`
	Notes  []string `json:"notes"`
	Checks []struct {
		Check  string          `json:"check"`
		Status string          `json:"status"`
		Detail string          `json:"detail"`
		Report json.RawMessage `json:"report"`
	} `json:"checks"`
}

// allowLeak allow-lists checkProject's leaked token, so that the secrets
// gate passes when it runs.
const allowLeak = "  secrets:\n    allowlist: [{path: app.js, reason: a test token}]\n"

// TestCheckAllSkipsDisabled: phoenix check DIR runs the checks the policy
// enables and lists the others as skipped, with the setting and its place
// in phoenix.yaml, in the table and in JSON. A skipped check does not run:
// each case disables one that would fail (or error) if it ran.
func TestCheckAllSkipsDisabled(t *testing.T) {
	checkData(t)
	tests := []struct {
		name, yaml string
		remove     string            // a file of checkProject to delete
		want       map[string]string // check -> status; the rest pass
		line       string            // where the first skipped check is disabled
		code       int
	}{
		{"all on, the leak fails", "", "", map[string]string{"secrets": "fail"}, "", 1},
		{"secrets off", "  secrets: {enabled: false}\n", "", map[string]string{"secrets": "skipped"}, "phoenix.yaml:4:13", 0},
		{"audit off, that would gate dev", "  audit: {enabled: false, dev: true}\n" + allowLeak, "",
			map[string]string{"audit": "skipped"}, "phoenix.yaml:4:11", 0},
		{"licenses off, that would deny MIT", "  licenses: {enabled: false, dev: true, deny: [MIT]}\n" + allowLeak, "",
			map[string]string{"licenses": "skipped"}, "phoenix.yaml:4:14", 0},
		{"licenses off, audit fails", "  audit: {dev: true}\n  licenses: {enabled: false}\n" + allowLeak, "",
			map[string]string{"audit": "fail", "licenses": "skipped"}, "phoenix.yaml:5:14", 1},
		{"sbom off, no lockfile", "  audit: {enabled: false}\n  licenses: {enabled: false}\n  sbom: {enabled: false}\n" + allowLeak,
			"package-lock.json", map[string]string{"audit": "skipped", "licenses": "skipped", "sbom": "skipped"}, "phoenix.yaml:4:11", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "" // no phoenix.yaml: the defaults
			if tt.yaml != "" {
				yaml = "checks:\n" + tt.yaml
			}
			dir := checkProject(t, yaml)
			if tt.remove != "" {
				if err := os.Remove(filepath.Join(dir, tt.remove)); err != nil {
					t.Fatal(err)
				}
			}
			r := runCheck(t, t.TempDir(), "check", dir, "-o", "json")
			var out checkAllJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != tt.code || out.Pass != (tt.code == 0) {
				t.Fatalf("exit %d (want %d), %v: %+v", r.code, tt.code, err, r)
			}
			var names []string
			for _, c := range out.Checks {
				names = append(names, c.Check)
				want := tt.want[c.Check]
				if want == "" {
					want = "pass"
				}
				ran := want == "pass" || want == "fail"
				if c.Status != want || c.Check != "sbom" && (c.Report != nil) != ran {
					t.Errorf("%s: %s (report %v), want %s: %s", c.Check, c.Status, c.Report != nil, want, c.Detail)
				}
				if want == "skipped" && !strings.HasPrefix(c.Detail, "checks."+c.Check+".enabled is false ("+dir) {
					t.Errorf("%s skipped: %q does not name the setting and its place", c.Check, c.Detail)
				}
			}
			if strings.Join(names, " ") != "audit licenses secrets sbom" {
				t.Errorf("checks listed: %v", names)
			}
			table := runCheck(t, t.TempDir(), "check", dir)
			for check, status := range tt.want {
				row := regexp.MustCompile(`(?m)^` + check + ` +` + status + ` `)
				if !row.MatchString(table.stdout) || table.code != tt.code {
					t.Errorf("table: no %s row %s, or exit %d: %+v", check, status, table.code, table)
				}
			}
			if tt.line != "" && !strings.Contains(table.stdout, tt.line+"); 'phoenix check ") {
				t.Errorf("table does not point at %s:\n%s", tt.line, table.stdout)
			}
		})
	}
}

// TestCheckNamedDisabledRuns: naming a check the policy disables runs it
// (an explicit request wins) and says so, in the table, in JSON and, for
// the SBOM written to standard output, on standard error.
func TestCheckNamedDisabledRuns(t *testing.T) {
	dir := checkProject(t, "checks:\n  secrets: {enabled: false}\n  sbom: {enabled: false}\n")
	said := "checks.secrets.enabled is false (" + filepath.Join(dir, "phoenix.yaml") + ":4:13): running it because 'phoenix check secrets' names it"
	r := runCheck(t, t.TempDir(), "check", "secrets", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "warning: "+said) || !strings.Contains(r.stdout, "gate: FAIL") {
		t.Errorf("secrets named: %+v", r)
	}
	r = runCheck(t, t.TempDir(), "check", "secrets", dir, "-o", "json")
	var out struct{ Warnings []string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 1 || len(out.Warnings) != 1 || !strings.HasPrefix(out.Warnings[0], said) {
		t.Errorf("secrets named, JSON: %v, %+v", err, r)
	}
	r = runCheck(t, t.TempDir(), "check", "sbom", dir)
	if r.code != 0 || !strings.Contains(r.stdout, `"bomFormat": "CycloneDX"`) ||
		!strings.Contains(r.stderr, "note: checks.sbom.enabled is false (") || !strings.Contains(r.stderr, "'phoenix check sbom' names it") {
		t.Errorf("sbom named: %+v", r)
	}
	if r := runCheck(t, t.TempDir(), "check", "licenses", dir); strings.Contains(r.stdout, "running it because") {
		t.Errorf("licenses is enabled, yet: %+v", r)
	}
}

// TestCheckAllFailsClosed: a check that cannot run (no advisory database)
// fails phoenix check DIR with its error and hint, even with --no-gate,
// while the others are still run and reported.
func TestCheckAllFailsClosed(t *testing.T) {
	t.Setenv("PHOENIX_DATA", t.TempDir())
	dir := checkProject(t, "checks:\n"+allowLeak)
	r := runCheck(t, t.TempDir(), "check", dir, "--no-gate")
	if r.code != 2 || !strings.Contains(r.stderr, "1 check(s) could not run: audit: ") ||
		!strings.Contains(r.stderr, "hint: import advisories first") {
		t.Fatalf("no advisory database: %+v", r)
	}
	for _, row := range []string{`audit +error +.*no advisory database`, `licenses +pass `, `secrets +pass `, `sbom +pass `} {
		if !regexp.MustCompile(`(?m)^` + row).MatchString(r.stdout) {
			t.Errorf("no row %q:\n%s", row, r.stdout)
		}
	}
}

// TestCheckAllSBOMWithoutLockfileFailsClosed: an SBOM that cannot be made
// (no lockfile) is an error that fails phoenix check DIR even with
// --no-gate, as docs/security-gates.md says and 'phoenix check sbom' does;
// it was a failed check, which --no-gate let pass (exit 0).
func TestCheckAllSBOMWithoutLockfileFailsClosed(t *testing.T) {
	checkData(t)
	dir := checkProject(t, "checks:\n  audit: {enabled: false}\n  licenses: {enabled: false}\n"+allowLeak)
	if err := os.Remove(filepath.Join(dir, "package-lock.json")); err != nil {
		t.Fatal(err)
	}
	r := runCheck(t, t.TempDir(), "check", dir, "--no-gate")
	if r.code != 1 || !strings.Contains(r.stderr, "1 check(s) could not run: sbom: 1 problem(s) reading the lockfiles; no SBOM") ||
		!regexp.MustCompile(`(?m)^sbom +error +`).MatchString(r.stdout) {
		t.Errorf("no lockfile, --no-gate: %+v", r)
	}
}

// TestCheckAuditWithNothingLocked: without an advisory database the audit
// of a project whose lockfile locks no package passes, saying why, as the
// release pipeline's audit step does (phoenix check failed it, so the two
// disagreed on the example site); with a package locked it fails closed.
func TestCheckAuditWithNothingLocked(t *testing.T) {
	t.Setenv("PHOENIX_DATA", t.TempDir())
	dir := t.TempDir()
	lock := `{"name":"x","lockfileVersion":3,"requires":true,"packages":{"":{"name":"x"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "audit", dir}, {"check", dir}} {
		r := runCheck(t, t.TempDir(), args...)
		if r.code != 0 || !strings.Contains(r.stdout, "warning: no advisory database, but the project locks no packages: nothing to audit") {
			t.Errorf("%v with nothing locked: %+v", args, r)
		}
	}
	if r := runCheck(t, t.TempDir(), "check", "audit", checkProject(t, "")); r.code != 2 || !strings.Contains(r.stderr, "no advisory database") {
		t.Errorf("check audit with a package locked: %+v", r)
	}
}

// TestCheckAllArgs: a bare word that is neither a check nor a folder is a
// mistyped check; 'phoenix check help' is help; --no-gate reports without
// failing, and --sarif belongs to the single gates.
func TestCheckAllArgs(t *testing.T) {
	checkData(t)
	dir := checkProject(t, "")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "audti"}, 2, `unknown command "audti" for "phoenix check", nor a folder; did you mean audit?`},
		{[]string{"check", "help"}, 0, "Available Commands:"},
		{[]string{"check", "--no-gate"}, 0, "gate: FAIL"},
		{[]string{"check", "--sarif", "x.sarif"}, 2, "unknown flag: --sarif"},
		{[]string{"check", ".", "apps"}, 2, "accepts at most 1 arg(s), received 2"},
	} {
		r := runCheck(t, dir, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("phoenix %s: want exit %d and %q, got %+v", strings.Join(c.args, " "), c.code, c.want, r)
		}
	}
}
