package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateWarnsOfStepsOfDisabledChecks: phoenix validate passes (exit
// 0) a pipeline whose step uses a check phoenix.yaml disables, and warns
// of it, in the text and in -o json, at the step and naming the setting.
func TestValidateWarnsOfStepsOfDisabledChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	yml := "project: {name: shop}\nchecks:\n  secrets: {enabled: false}\nenvironments: {staging: {}}\n" +
		"pipeline:\n  stages:\n    - name: gates\n      steps:\n        - {name: secrets, uses: check/secrets}\n"
	path := filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	want := path + ":9:27: warning: pipeline.stages[0].steps[0].uses: check/secrets runs although checks.secrets.enabled is false (" +
		path + ":3:13): a step that names a check runs it anyway"
	tests := []struct {
		name string
		args []string
	}{{"text", []string{"validate", dir}}, {"json", []string{"validate", dir, "-o", "json"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := run(tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (a warning only): %s%s", code, out, errs)
			}
			if tt.name == "text" {
				if !strings.Contains(out, want) || !strings.Contains(out, path+": ok, 1 warning(s)") {
					t.Errorf("output:\n%s\nwant %q", out, want)
				}
				return
			}
			var got []checked
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if len(got) != 1 || len(got[0].Errors) != 0 || len(got[0].Warnings) != 1 || !strings.HasPrefix(got[0].Warnings[0], want) {
				t.Errorf("json %+v, want the warning %q", got, want)
			}
		})
	}
}

// TestValidateRefusesAnUnknownActionWithItsPosition: phoenix validate
// used to say "ok" of a pipeline whose step uses an action that does not
// exist (or reads the outputs of a step that does not), which only the
// release then refused, without a line number. It exits 2 now, naming the
// file, line, field and the action meant.
func TestValidateRefusesAnUnknownActionWithItsPosition(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	yml := "project: {name: shop}\nenvironments: {production: {}}\n" +
		"pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: compile, uses: build}\n" +
		"    - name: ship\n      needs: [build]\n      steps:\n" +
		"        - name: deploy\n          uses: deploi\n" +
		"        - name: smoke\n          run: ls ${{ steps.biuld/compile.outputs.dir }}\n"
	path := filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run("validate", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s%s", code, out, errs)
	}
	for _, want := range []string{
		path + `:12:11: pipeline.stages[1].steps[0].uses: unknown action "deploi" (hint: did you mean deploy?)`,
		path + `:14:11: pipeline.stages[1].steps[1].run: refers to the outputs of unknown step "biuld/compile" (hint: did you mean build/compile?)`,
		path + ": 2 error(s)",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output:\n%s\nwant the line %q", out, want)
		}
	}
}

// TestValidateWarnsOfAStaleBuildCopy: a staticwebapp.config.json in dist/
// that differs from public/'s (an earlier build's copy) is warned of, not
// passed as if it were what ships; an identical copy is not.
func TestValidateWarnsOfAStaleBuildCopy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for path, body := range map[string]string{"public/staticwebapp.config.json": `{"navigationFallback": {"rewrite": "/index.html"}}`,
		"dist/staticwebapp.config.json": `{}`} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := run("validate", dir)
	stale := filepath.Join(dir, "dist", "staticwebapp.config.json") + ": differs from " + filepath.Join(dir, "public", "staticwebapp.config.json")
	if code != 0 || !strings.Contains(out, stale) {
		t.Fatalf("exit %d:\n%s%s\nwant a warning %q", code, out, errs, stale)
	}
	os.WriteFile(filepath.Join(dir, "dist", "staticwebapp.config.json"), []byte(`{"navigationFallback": {"rewrite": "/index.html"}}`), 0o644)
	if out, _, _ := run("validate", dir); strings.Contains(out, "differs from") {
		t.Errorf("an identical copy warned of:\n%s", out)
	}
}

// TestReleaseChecksTheSourceSWAConfigFirst: a mistake in the app's
// public/staticwebapp.config.json stopped a release only at
// create-artifact, after the whole build, naming the build's copy in
// dist/. phoenix release checks the source before a server is reached,
// as phoenix validate does, and names it.
func TestReleaseChecksTheSourceSWAConfigFirst(t *testing.T) {
	t.Parallel()
	dir, data := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte("project: {name: shop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "public", "staticwebapp.config.json")
	cfg := "{\n  \"routes\": [{\"route\": \"/old\", \"redirect\": \"/new\", \"statusCode\": \"301\"}]\n}\n"
	if err := os.WriteFile(src, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run("release", "v1.0.0", "--dir", dir, "--data", data)
	want := "error: " + src + ":2:66: routes[0].statusCode: must be a number, not a string"
	if code != 2 || !strings.Contains(errs, want) || !strings.Contains(errs, "hint: fix "+src) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "state.db")); err == nil {
		t.Error("the release reached a server before the check")
	}
}
