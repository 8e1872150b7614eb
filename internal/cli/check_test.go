package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkLock locks only minimist@1.2.5, a dev dependency with a critical
// advisory (GHSA-xvch-5gv4-984h) and the MIT licence.
const checkLock = `{
  "name": "x", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "x", "version": "1.0.0", "devDependencies": {"minimist": "1.2.5"}},
    "node_modules/minimist": {"version": "1.2.5", "dev": true, "license": "MIT",
      "integrity": "sha512-FM9nNUYrRBAELZQT3xeZQ7fmMOBg6nWNmJKTcgsJeaLstP/UODVpGsr5OhXhhXg6f+qtJ8uiZ+PUxkDWcgIXLw=="}
  }
}`

// checkLeak is a token the secrets gate fails on.
const checkLeak = `const token = "ghp_R8kQ2vLx9TzP4mNw7YbC3dFh6JsA1uEo5GiK";` + "\n"

type checkResult struct {
	code           int
	stdout, stderr string
}

// runCheck runs phoenix with args in cwd, with the workplace's real OSV
// npm advisories imported into a fresh data folder.
func runCheck(t *testing.T, cwd string, args ...string) checkResult {
	t.Helper()
	t.Chdir(cwd)
	var out, errb bytes.Buffer
	code := Main(args, nil, &out, &errb)
	return checkResult{code, out.String(), errb.String()}
}

// checkData imports /work/shared/data's OSV npm advisories and points
// PHOENIX_DATA at them.
func checkData(t *testing.T) {
	t.Helper()
	adv := "/work/shared/data/osv-npm"
	if _, err := os.Stat(adv); err != nil {
		if os.Getenv("PHOENIX_REQUIRE_TOOLS") == "1" {
			t.Fatalf("real advisories missing: %v", err)
		}
		t.Skip("no /work/shared/data/osv-npm")
	}
	t.Setenv("PHOENIX_DATA", t.TempDir())
	if r := runCheck(t, t.TempDir(), "advisories", "import", adv); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
}

// checkProject writes a project folder with the lockfile, a leaked token
// and, when yaml is not "", a phoenix.yaml.
func checkProject(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"package-lock.json": checkLock, "app.js": checkLeak}
	if yaml != "" {
		files["phoenix.yaml"] = "project:\n  name: x\n" + yaml
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkKinds are the check commands: "" is phoenix check [DIR], all of them.
var checkKinds = []string{"", "audit", "licenses", "secrets", "sbom"}

// checkArgs is the command line of check kind ("" for them all) with rest.
func checkArgs(kind string, rest ...string) []string {
	if kind == "" {
		return append([]string{"check"}, rest...)
	}
	return append([]string{"check", kind}, rest...)
}

// TestCheckReadsDIRPolicy: run from another folder, each gate applies the
// policy in DIR's phoenix.yaml, where without it the defaults give the
// opposite outcome.
func TestCheckReadsDIRPolicy(t *testing.T) {
	checkData(t)
	for _, c := range []struct {
		kind, yaml       string
		withYAML, noYAML int
		want             string // in stdout with the policy
	}{
		{"audit", "checks:\n  audit:\n    dev: true\n", 1, 0, "gate: FAIL"},
		{"licenses", "checks:\n  licenses:\n    dev: true\n    deny: [MIT]\n", 1, 0, "gate: FAIL"},
		{"secrets", "checks:\n  secrets:\n    allowlist:\n      - path: app.js\n        reason: a test token\n", 0, 1, "gate: pass"},
	} {
		elsewhere := t.TempDir()
		if r := runCheck(t, elsewhere, "check", c.kind, checkProject(t, c.yaml)); r.code != c.withYAML || !strings.Contains(r.stdout, c.want) {
			t.Errorf("%s with DIR/phoenix.yaml: want exit %d and %q, got %+v", c.kind, c.withYAML, c.want, r)
		}
		if r := runCheck(t, elsewhere, "check", c.kind, checkProject(t, "")); r.code != c.noYAML {
			t.Errorf("%s without phoenix.yaml: want exit %d, got %+v", c.kind, c.noYAML, r)
		}
	}
}

// TestCheckLicensesDev: the licence gate covers development-only packages
// (checkLock's MIT minimist) by checks.licenses.dev; without it, by
// checks.audit.dev as before, with a warning that names the setting. The
// audit keeps to checks.audit.dev whatever checks.licenses.dev says.
func TestCheckLicensesDev(t *testing.T) {
	checkData(t)
	const warned = "phoenix.yaml:6:5: warning: checks.audit.dev: also gates the licences of development-only packages"
	tests := []struct {
		name, checks    string
		licenses, audit int // exit codes
		warning         bool
	}{
		{"neither", "licenses: {deny: [MIT]}", 0, 0, false},
		{"licenses.dev", "licenses: {dev: true, deny: [MIT]}", 1, 0, false},
		{"audit.dev, licenses.dev false", "audit: {dev: true}\n  licenses: {dev: false, deny: [MIT]}", 0, 1, false},
		{"audit.dev alone, as before", "licenses: {deny: [MIT]}\n  audit:\n    dev: true", 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := checkProject(t, "checks:\n  "+tt.checks+"\n")
			for kind, want := range map[string]int{"licenses": tt.licenses, "audit": tt.audit} {
				r := runCheck(t, t.TempDir(), "check", kind, dir)
				if r.code != want || strings.Contains(r.stderr, warned) != tt.warning {
					t.Errorf("%s: want exit %d, warning %v: %+v", kind, want, tt.warning, r)
				}
			}
			all := runCheck(t, t.TempDir(), "check", dir, "--no-gate")
			if row := "licenses  " + map[int]string{0: "pass", 1: "fail"}[tt.licenses]; !strings.Contains(all.stdout, row) {
				t.Errorf("phoenix check: no row %q:\n%s", row, all.stdout)
			}
		})
	}
}

// TestCheckMissingConfigFile: a -c file that does not exist is a usage
// error, not the defaults.
func TestCheckMissingConfigFile(t *testing.T) {
	checkData(t)
	missing := filepath.Join(t.TempDir(), "nonexistent.yaml")
	for _, kind := range checkKinds {
		r := runCheck(t, t.TempDir(), checkArgs(kind, checkProject(t, ""), "-c", missing)...)
		if r.code != 2 || !strings.Contains(r.stderr, missing+" does not exist") {
			t.Errorf("%s -c %s: %+v", kind, missing, r)
		}
	}
}

// TestCheckExplicitConfig: -c names the policy file, instead of DIR's.
func TestCheckExplicitConfig(t *testing.T) {
	checkData(t)
	policy := filepath.Join(checkProject(t, "checks:\n  audit:\n    dev: true\n"), "phoenix.yaml")
	if r := runCheck(t, t.TempDir(), "check", "audit", checkProject(t, ""), "-c", policy); r.code != 1 {
		t.Errorf("audit -c with dev: true: %+v", r)
	}
}

// TestCheckInvalidConfig: a phoenix.yaml that does not load is a
// configuration error with its position, whatever the gate.
func TestCheckInvalidConfig(t *testing.T) {
	checkData(t)
	dir := checkProject(t, "checks:\n  exeptions: []\n")
	for _, kind := range checkKinds {
		r := runCheck(t, t.TempDir(), checkArgs(kind, dir)...)
		if r.code != 2 || !strings.Contains(r.stderr, "phoenix.yaml:4:3: checks.exeptions: unknown key") {
			t.Errorf("%s with a typo in phoenix.yaml: %+v", kind, r)
		}
	}
}

// TestCheckDefaultPolicySaid: with no phoenix.yaml the output says the
// default policy applies.
func TestCheckDefaultPolicySaid(t *testing.T) {
	checkData(t)
	dir := checkProject(t, "")
	for _, kind := range checkKinds {
		r := runCheck(t, dir, checkArgs(kind)...)
		if !strings.Contains(r.stdout+r.stderr, "no phoenix.yaml: the default checks policy applies") {
			t.Errorf("%s without phoenix.yaml: %+v", kind, r)
		}
	}
	for _, kind := range []string{"audit", ""} {
		r := runCheck(t, dir, checkArgs(kind, "-o", "json")...)
		if !strings.Contains(r.stdout, `"no phoenix.yaml: the default checks policy applies"`) {
			t.Errorf("check %s -o json without phoenix.yaml: %+v", kind, r)
		}
	}
}

// TestCheckMissingFolder: a DIR that is not a folder is a usage error.
func TestCheckMissingFolder(t *testing.T) {
	checkData(t)
	missing := filepath.Join(t.TempDir(), "nope")
	for _, kind := range checkKinds {
		r := runCheck(t, t.TempDir(), checkArgs(kind, missing)...)
		if r.code != 2 || !strings.Contains(r.stderr, "folder "+missing+" does not exist") {
			t.Errorf("%s on a missing folder: %+v", kind, r)
		}
	}
}

// TestCheckSBOMNoLockfile: like the other gates, sbom fails closed on a
// folder without a lockfile, says what it looked for and writes nothing.
func TestCheckSBOMNoLockfile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "sbom.json")
	r := runCheck(t, dir, "check", "sbom", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "no lockfile found (looked for [npm-shrinkwrap.json package-lock.json") {
		t.Fatalf("sbom without a lockfile: %+v", r)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("an SBOM was written: %v", err)
	}
	if r := runCheck(t, dir, "check", "sbom"); r.code != 1 || r.stdout != "" {
		t.Fatalf("sbom to standard output without a lockfile: %+v", r)
	}
}

// TestCheckSBOMHasNoGateFlags: --sarif and --no-gate mean nothing to sbom,
// so it does not take them; the gates do.
func TestCheckSBOMHasNoGateFlags(t *testing.T) {
	dir := checkProject(t, "")
	for _, flag := range []string{"--sarif=x.sarif", "--no-gate"} {
		if r := runCheck(t, dir, "check", "sbom", flag); r.code != 2 || !strings.Contains(r.stderr, "unknown flag") {
			t.Errorf("sbom %s: %+v", flag, r)
		}
	}
	if r := runCheck(t, dir, "check", "secrets", "--no-gate"); r.code != 0 || !strings.Contains(r.stdout, "gate: FAIL") {
		t.Errorf("secrets --no-gate: %+v", r)
	}
}

// TestCheckSBOMFormat: checks.sbom.format picks the SBOM's format.
func TestCheckSBOMFormat(t *testing.T) {
	for format, want := range map[string]string{"spdx": `"spdxVersion": "SPDX-2.3"`, "cyclonedx": `"bomFormat": "CycloneDX"`} {
		dir := checkProject(t, "checks:\n  sbom:\n    format: "+format+"\n")
		r := runCheck(t, t.TempDir(), "check", "sbom", dir)
		if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "pkg:npm/minimist@1.2.5") {
			t.Errorf("format %s: %+v", format, r)
		}
	}
}

// TestAdvisoriesImportRefusesServer: 'phoenix advisories import' writes a
// data dir on this machine; given --server (or PHOENIX_SERVER) it is a usage
// error naming the server, and nothing is written into the local data dir,
// instead of "imported" into a folder the server never reads.
func TestAdvisoriesImportRefusesServer(t *testing.T) {
	src := t.TempDir()
	osvDoc := `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"leftpad"},` +
		`"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`
	if err := os.WriteFile(filepath.Join(src, "GHSA-aaaa-bbbb-cccc.json"), []byte(osvDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--server", "http://10.0.0.5:7070"}, ""},
		{"env", nil, "http://10.0.0.5:7070"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			t.Setenv("PHOENIX_DATA", data)
			t.Setenv("PHOENIX_SERVER", c.env)
			t.Setenv("PHOENIX_TOKEN", "phx_x")
			r := runCheck(t, t.TempDir(), append([]string{"advisories", "import", src}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, "not through --server http://10.0.0.5:7070") ||
				!strings.Contains(r.stderr, "every replica that may lead") {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(data, "advisories")); !os.IsNotExist(err) {
				t.Fatalf("advisories written into the local data dir: %v", err)
			}
		})
	}
	// Without a server it imports, as before.
	t.Setenv("PHOENIX_DATA", t.TempDir())
	t.Setenv("PHOENIX_SERVER", "")
	if r := runCheck(t, t.TempDir(), "advisories", "import", src); r.code != 0 || !strings.Contains(r.stdout, "imported 1 advisories") {
		t.Fatalf("local import: %+v", r)
	}
}

// TestCheckLicensesSummaryCountsVerdicts: the licence gate's summary line
// counts its findings by verdict, as its table and gate name them ("1
// review"), in phoenix check licenses and in phoenix check's detail.
// Before, it counted them by the severity that ranks them: "1 moderate"
// for a licence that needs review, "high" for a denied one.
func TestCheckLicensesSummaryCountsVerdicts(t *testing.T) {
	t.Setenv("PHOENIX_DATA", t.TempDir())
	dir := checkProject(t, "checks:\n  licenses: {dev: true, review: [MIT]}\n")
	r := runCheck(t, t.TempDir(), "check", "licenses", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "\nlicense: 1 review in 1 packages\n") || strings.Contains(r.stdout, "moderate") {
		t.Errorf("check licenses: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	dir = checkProject(t, "checks:\n  licenses: {dev: true, deny: [MIT]}\n  audit: {enabled: false}\n")
	r = runCheck(t, t.TempDir(), "check", dir)
	if !strings.Contains(r.stdout, "licenses  fail     license: 1 deny in 1 packages\n") {
		t.Errorf("check: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
