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
	dir, data := releaseProject(t, "project: {name: shop}\nenvironments: {staging: {}}\nchecks:\n  audit: {enabled: false}\n  secrets: {enabled: false}\n"+
		"pipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: secrets, uses: check/secrets}\n")
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

// releaseProject writes a project folder with phoenix.yaml holding yml
// and returns it with a data dir, for a command's in-process server (no
// master key).
func releaseProject(t *testing.T, yml string) (dir, data string) {
	t.Helper()
	noMasterKey(t)
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, t.TempDir()
}

// TestReleaseToStagingSaysWhatItLeftOut: phoenix release --env staging of
// a pipeline with a production stage runs the stages up to staging (it
// was refused); the logs it streams, its summary and phoenix runs say the
// production stage was left out and why. phoenix release --env production
// then takes the same version there.
func TestReleaseToStagingSaysWhatItLeftOut(t *testing.T) {
	dir, data := releaseProject(t, "project: {name: shop}\nenvironments: {staging: {}, production: {}}\n"+
		"pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: version, uses: validate-tag}\n"+
		"    - name: stage\n      needs: [build]\n      environment: staging\n      steps:\n        - {name: deploy, run: echo staged}\n"+
		"    - name: prod\n      needs: [stage]\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n")
	var seen []string
	r := phx(&seen, "", "release", "v1.0.0", "--env", "staging", "--dir", dir, "--data", data)
	if r.code != 0 {
		t.Fatalf("release to staging: exit %d:\n%s%s", r.code, r.out, r.err)
	}
	const why = "stage prod acts on production, not in --env staging"
	if !strings.Contains(r.out, "prod/deploy | [phoenix] skipped: "+why+"\n") || !strings.Contains(r.out, "stage/deploy | staged\n") ||
		!strings.HasSuffix(r.out, "skipped: prod/deploy: "+why+"\n") || strings.Contains(r.out, "shipped") {
		t.Errorf("release to staging:\n%s\nwant staging deployed, production's stage left out, the summary ending with why", r.out)
	}
	if r = phx(&seen, "", "runs", "--data", data); !strings.Contains(r.out, "succeeded") || !strings.Contains(r.out, "skipped: "+why) {
		t.Errorf("phoenix runs:\n%s%s", r.out, r.err)
	}
	r = phx(&seen, "", "release", "v1.0.0", "--env", "production", "--dir", dir, "--data", data)
	if r.code != 0 || !strings.Contains(r.out, "prod/deploy | shipped\n") ||
		!strings.HasSuffix(r.out, "skipped: stage/deploy: stage stage acts on staging, not in --env production\n") {
		t.Errorf("the same version to production: exit %d:\n%s%s", r.code, r.out, r.err)
	}
}

// TestDetachWithoutAServerSaysSo: --detach cannot leave a run to an
// in-process server, which ends with the command: the release says so and
// follows the run to its end instead of waiting without a word.
func TestDetachWithoutAServerSaysSo(t *testing.T) {
	dir, data := releaseProject(t, "project: {name: shop}\nenvironments: {staging: {}}\npipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: ok, run: \"true\"}\n")
	var seen []string
	r := phx(&seen, "", "release", "v1.0.0", "--detach", "--dir", dir, "--data", data)
	if r.code != 0 || !strings.Contains(r.err, "note: --detach needs a running server") || !strings.Contains(r.out+r.err, "succeeded") {
		t.Fatalf("release --detach in process: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// TestReleaseOfAVersionNotToReleaseSaysNotToRetry: a version not greater
// than the last release is refused before it is queued (exit 2, nothing
// queued, nothing announced); a release whose validate-tag fails in its
// run (the version missing from release.changelog) is not sent to phoenix
// retry, which runs the same version again and fails the same way; another
// failure still is.
func TestReleaseOfAVersionNotToReleaseSaysNotToRetry(t *testing.T) {
	const yml = "project: {name: shop}\nenvironments: {staging: {}}\n" +
		"pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: version, uses: validate-tag}\n" +
		"        - {name: test, run: test -f ok}\n"
	dir, data := releaseProject(t, yml)
	var seen []string
	if r := phx(&seen, "", "release", "v1.0.0", "--dir", dir, "--data", data); r.code != 1 ||
		!strings.Contains(r.err, "hint: see phoenix logs 1; retry with phoenix retry 1\n") {
		t.Fatalf("a failed test: exit %d, want 1 and the hint to retry:\n%s", r.code, r.err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := phx(&seen, "", "release", "v1.0.0", "--dir", dir, "--data", data); r.code != 0 {
		t.Fatalf("release: exit %d:\n%s%s", r.code, r.out, r.err)
	}
	r := phx(&seen, "", "release", "v1.0.0", "--dir", dir, "--data", data)
	if r.code != 2 || !strings.Contains(r.err, "not greater than the last release v1.0.0") || !strings.Contains(r.err, "nothing was queued") ||
		strings.Contains(r.err, "phoenix retry") {
		t.Errorf("a version released already: exit %d, want 2, refused before it is queued:\n%s", r.code, r.err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yml+"release: {changelog: CHANGELOG.md}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte("## v1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = phx(&seen, "", "release", "v1.1.0", "--dir", dir, "--data", data)
	if r.code != 1 || !strings.Contains(r.err, "hint: see phoenix logs 3; a retry would release the same version again: release another one\n") ||
		strings.Contains(r.err, "phoenix retry") {
		t.Errorf("a version missing from the changelog: exit %d, want 1 and no hint to retry:\n%s", r.code, r.err)
	}
}
