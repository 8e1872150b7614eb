package action

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestNamedDisabledCheckRuns: a step that uses check/secrets runs the scan
// even when phoenix.yaml disables it (the default plan leaves such a check
// out, so the step asks for it by name), and its log says so, pointing at
// the setting.
func TestNamedDisabledCheckRuns(t *testing.T) {
	leak := map[string]string{"app.js": `const token = "ghp_R8kQ2vLx9TzP4mNw7YbC3dFh6JsA1uEo5GiK";` + "\n"}
	tests := []struct {
		name, yaml string
		note       string // in the log; "" for none
	}{
		{"disabled", "checks: {secrets: {enabled: false}}\n", "note: checks.secrets.enabled is false (phoenix.yaml:2:20): running it because this step uses check/secrets"},
		{"enabled", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("project: {name: site}\n"+tt.yaml), "phoenix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			write(t, dir, leak)
			sc, log, _ := newContext(t, dir, cfg, nil)
			a, _ := Builtins(Deps{Now: time.Now}).Lookup("check/secrets")
			if err := a.Run(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "secret gate failed") {
				t.Errorf("the scan did not run and fail: %v\n%s", err, log)
			}
			if got := strings.Contains(log.String(), "running it because"); got != (tt.note != "") || !strings.Contains(log.String(), tt.note) {
				t.Errorf("log, want %q:\n%s", tt.note, log)
			}
		})
	}
}

// TestLicensesStepDev: the pipeline's licence gate covers a
// development-only package by checks.licenses.dev, or without it by
// checks.audit.dev (as before the setting), as phoenix check licenses does.
func TestLicensesStepDev(t *testing.T) {
	devMIT := map[string]string{"package-lock.json": `{"name": "x", "version": "1.0.0", "lockfileVersion": 3, "packages": {
  "": {"name": "x", "version": "1.0.0", "devDependencies": {"minimist": "1.2.5"}},
  "node_modules/minimist": {"version": "1.2.5", "dev": true, "license": "MIT"}}}`}
	tests := []struct {
		checks string
		fails  bool
	}{
		{"{licenses: {deny: [MIT]}}", false},
		{"{licenses: {deny: [MIT], dev: true}}", true},
		{"{audit: {dev: true}, licenses: {deny: [MIT], dev: false}}", false},
		{"{audit: {dev: true}, licenses: {deny: [MIT]}}", true},
	}
	for _, tt := range tests {
		t.Run(tt.checks, func(t *testing.T) {
			cfg, err := config.Parse([]byte("project: {name: site}\nchecks: "+tt.checks+"\n"), "phoenix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			write(t, dir, devMIT)
			sc, log, _ := newContext(t, dir, cfg, nil)
			err = (&Deps{Now: time.Now}).checkLicenses(context.Background(), sc)
			if (err != nil) != tt.fails || !strings.Contains(log.String(), "minimist") {
				t.Errorf("want failed %v, got %v\n%s", tt.fails, err, log)
			}
		})
	}
}

// TestAuditWithNothingToAuditRecordsItsResult: a project that locks no
// packages passes the audit without an advisory database, and the step
// records its result (0 packages, clean), so reports do not read
// "succeeded, no result recorded".
func TestAuditWithNothingToAuditRecordsItsResult(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"package.json": `{"name": "x", "version": "1.0.0"}`,
		"package-lock.json": `{"name": "x", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "x", "version": "1.0.0"}}}`})
	sc, log, outs := newContext(t, dir, nil, nil)
	a, _ := Builtins(Deps{Now: time.Now, AdvisoryDir: filepath.Join(t.TempDir(), "none")}).Lookup("check/audit")
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	var g GateSummary
	if err := json.Unmarshal([]byte(outs["summary"]), &g); err != nil || !g.Pass || g.Scanned != 0 || g.Kind != "vulnerability" {
		t.Fatalf("summary %q (%v)\n%s", outs["summary"], err, log)
	}
}

// TestAuditWithoutDatabaseSaysWhatToDoOnce: the first release on a new
// server fails its audit for want of an advisory database. The step's
// error (the run's message in phoenix runs, the release's last line) said
// it twice, naming the folder twice and the import command twice with two
// different arguments; it says it once now, with where to run it.
func TestAuditWithoutDatabaseSaysWhatToDoOnce(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"package.json": `{"name": "x", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}`,
		"package-lock.json": `{"name": "x", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "x", "version": "1.0.0", ` +
			`"dependencies": {"ms": "2.1.3"}}, "node_modules/ms": {"version": "2.1.3"}}}`})
	sc, log, _ := newContext(t, dir, nil, nil)
	none := filepath.Join(t.TempDir(), "advisories")
	a, _ := Builtins(Deps{Now: time.Now, AdvisoryDir: none}).Lookup("check/audit")
	err := a.Run(context.Background(), sc)
	want := "no advisory database at " + none + ", and the audit fails closed without one: import one on the server's machine " +
		"with phoenix advisories import all.zip and the server's --data (docs/security-gates.md)"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v\nwant %s\n%s", err, want, log)
	}
}
