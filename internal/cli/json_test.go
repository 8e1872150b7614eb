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
		"backup status", "vault status", "version"} {
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
