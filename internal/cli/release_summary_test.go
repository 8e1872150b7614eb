package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestReleaseSummarySaysWhichGatesWereDisabled: phoenix release prints
// phoenix.yaml's warnings first and ends
// with the run's steps and a line for each gate phoenix.yaml disabled
// and no step ran, naming the setting and its place; -o json has them
// in the run's plan (disabled_checks). A check a step runs all the same
// is a step of the table, not a disabled gate.
func TestReleaseSummarySaysWhichGatesWereDisabled(t *testing.T) {
	noMasterKey(t)
	dir := t.TempDir()
	yml := "project: {name: shop}\nenvironments: {staging: {}}\nchecks:\n  audit: {enabled: false}\n  secrets: {enabled: false}\n" +
		"pipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: secrets, uses: check/secrets}\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	var seen []string
	r := phx(&seen, "", "release", "v1.0.0", "--dir", dir, "--data", data)
	if r.code != 0 {
		t.Fatalf("release: exit %d:\n%s%s", r.code, r.out, r.err)
	}
	want := "disabled: check/audit (checks.audit.enabled: false, phoenix.yaml:4:11): this release ran without it\n"
	if !strings.HasSuffix(r.out, want) || strings.Contains(r.out, "disabled: check/secrets") {
		t.Errorf("summary:\n%s\nwant it to end with %q, and secrets (a step) not disabled", r.out, want)
	}
	if !strings.Contains(r.err, "run 1: releasing shop v1.0.0 to staging\n") {
		t.Errorf("release does not say where it goes in words:\n%s", r.err)
	}
	// phoenix.yaml's warnings come first, as phoenix validate gives them.
	if !strings.Contains(r.err, "warning: pipeline.stages[0].steps[0].uses: check/secrets runs although checks.secrets.enabled is false") {
		t.Errorf("release does not print phoenix.yaml's warning:\n%s", r.err)
	}
	r = phx(&seen, "", "retry", "1", "--data", data, "-o", "json")
	var d pipeline.RunDetail
	if err := json.Unmarshal([]byte(r.out), &d); err != nil || r.code != 0 {
		t.Fatalf("retry -o json: exit %d, %v:\n%s%s", r.code, err, r.out, r.err)
	}
	if got := d.Plan.LeftOut(); len(got) != 1 || got[0].Check != "audit" || got[0].At != "phoenix.yaml:4:11" || len(d.Plan.Disabled) != 2 {
		t.Errorf("the retry's plan records %+v, leaves out %+v", d.Plan.Disabled, got)
	}
}
