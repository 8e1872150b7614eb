package cli

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goFieldName matches a JSON key that starts with a capital letter, as a
// Go field without a json tag gives.
var goFieldName = regexp.MustCompile(`"[A-Z][A-Za-z0-9]*":`)

// TestJSONOfAnEmptyServer: every listing and report of a new data dir,
// with -o json, is valid JSON with snake_case keys and [] (not null) for
// the lists that are empty.
func TestJSONOfAnEmptyServer(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_MASTER_KEY", "PHOENIX_MASTER_KEY_FILE")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, args := range []string{"runs", "projects", "alerts", "alerts --all", "alerts --history", "alerts silences",
		"certificates", "token list", "user list", "user roles", "status", "gc", "report", "audit verify",
		"vault status", "version"} { // backup status: the running server's, refused in-process (TestBackupStatusWithoutAServer)
		out := mustRun(t, "", append(strings.Fields(args), "-o", "json")...)
		if !json.Valid([]byte(out)) {
			t.Errorf("phoenix %s -o json is not JSON:\n%s", args, out)
		}
		if strings.Contains(out, "null") || goFieldName.MatchString(out) {
			t.Errorf("phoenix %s -o json has a null or a Go field name:\n%s", args, out)
		}
	}
}

// TestProjectConfigJSONHasNoNull: the summary of a phoenix.yaml without
// notification channels lists them as [], not null.
func TestProjectConfigJSONHasNoNull(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_MASTER_KEY", "PHOENIX_MASTER_KEY_FILE", "PHOENIX_ENV")
	dir := siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {}\n")
	data := t.TempDir()
	mustRun(t, "", "deploy", filepath.Join(dir, "dist"), "--env", "staging", "--data", data)
	out := mustRun(t, "", "projects", "config", "shop", "-o", "json", "--data", data)
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil || strings.Contains(out, "null") {
		t.Fatalf("projects config -o json: %v\n%s", err, out)
	}
	if ch, ok := s["channels"].([]any); !ok || len(ch) != 0 {
		t.Fatalf("channels: %#v", s["channels"])
	}
}

// camelKey matches a JSON key in camelCase ("ruleId"), where the CLI and
// the API write snake_case.
var camelKey = regexp.MustCompile(`"[a-z][a-z0-9_]*[A-Z][A-Za-z0-9_]*":`)

// TestCheckJSONIsSnakeCase: phoenix check's reports with -o json (the
// findings, the scan's extras and stats, the advisory import) have
// snake_case keys like the rest of the command line's JSON.
func TestCheckJSONIsSnakeCase(t *testing.T) {
	checkData(t)
	dir := checkProject(t, "checks:\n  audit:\n    dev: true\n")
	outs := map[string]string{}
	for _, args := range [][]string{{"check", dir}, {"check", "audit", dir}, {"check", "secrets", dir}, {"check", "licenses", dir},
		{"advisories", "import", "/work/shared/data/osv-npm"}} {
		r := runCheck(t, t.TempDir(), append(args, "-o", "json")...)
		name := strings.Join(args[:len(args)-1], " ")
		outs[name] = r.stdout
		if !json.Valid([]byte(r.stdout)) || camelKey.MatchString(r.stdout) {
			t.Errorf("phoenix %s -o json: not JSON, or keys in camelCase (%q):\n%s", name, camelKey.FindString(r.stdout), r.stdout)
		}
	}
	for name, key := range map[string]string{"check audit": `"dependency_path":`, "check": `"generated_at":`,
		"advisories import": `"imported_at":`} {
		if !strings.Contains(outs[name], key) {
			t.Errorf("phoenix %s -o json has no %s:\n%s", name, key, outs[name])
		}
	}
}

// TestRunJSONDurationsInSeconds: a run's plan, with -o json, writes a
// step's timeout and backoff as numbers of seconds (timeout_seconds,
// backoff_seconds), as the API writes every duration.
func TestRunJSONDurationsInSeconds(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_MASTER_KEY", "PHOENIX_MASTER_KEY_FILE", "PHOENIX_ENV")
	siteDir(t, "project: {name: shop}\nenvironments: {staging: {}}\npipeline:\n  stages:\n"+
		"    - {name: ship, environment: staging, steps: [{name: hello, run: \"true\", timeout: 10m, retries: 1}]}\n")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	out := mustRun(t, "", "release", "v1.0.0", "-o", "json")
	var run struct {
		Plan struct {
			Steps []map[string]any `json:"steps"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || len(run.Plan.Steps) != 1 {
		t.Fatalf("release -o json: %v\n%s", err, out)
	}
	st := run.Plan.Steps[0]
	if st["timeout_seconds"] != 600.0 || st["backoff_seconds"] == nil || st["timeout"] != nil || st["backoff"] != nil {
		t.Errorf("step %v: want timeout_seconds 600 and backoff_seconds, no timeout or backoff in nanoseconds", st)
	}
}
