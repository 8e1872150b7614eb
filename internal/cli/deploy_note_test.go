package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
)

// TestDeployNotesUnloadedMonitor: 'phoenix deploy' of a project that has
// never been released says that phoenix.yaml's probes, alert rules,
// channels and health checks are not in effect (the server reads them from
// the latest pipeline run), naming them; a phoenix.yaml without any gets
// no note.
func TestDeployNotesUnloadedMonitor(t *testing.T) {
	data, site, dir := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<p>shop</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.yaml", "project: {name: blog}\nenvironments:\n  production: {}\n")
	_, errs, code := runVault(t, "", "deploy", site, "--env", "production", "--data", data, "-c", plain)
	if code != 0 || strings.Contains(errs, "not in effect") {
		t.Fatalf("a phoenix.yaml without monitor: exit %d, stderr %q", code, errs)
	}
	watched := write("watched.yaml", "project: {name: shop}\nenvironments:\n  production:\n"+
		"    health_checks: [{name: home, url: /}]\n"+
		"monitor:\n  endpoints: [{name: home, environment: production, url: /}]\n"+
		"  alerts: [{name: Down, metric: availability, threshold: 99}]\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"http://127.0.0.1:9/hook\"}\n")
	_, errs, code = runVault(t, "", "deploy", site, "--env", "production", "--data", data, "-c", watched)
	if code != 0 {
		t.Fatalf("deploy: exit %d: %s", code, errs)
	}
	for _, want := range []string{"note: monitor.endpoints, monitor alert rules, notifications, environments.production.health_checks of phoenix.yaml are not in effect",
		"shop has none yet", "phoenix release"} {
		if !strings.Contains(errs, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errs)
		}
	}

	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(context.Background(), `INSERT INTO pipeline_runs (project, kind, version, dir, plan, status, created_at)
		VALUES ('shop', 'release', 'v1.0.0', $1, '{}', 'failed', '2026-11-27T00:00:00Z')`, dir)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "runs", "--data", data); !strings.Contains(out, "v1.0.0") {
		t.Fatalf("the run is not listed:\n%s", out)
	}
	if _, errs, code = runVault(t, "", "deploy", site, "--env", "production", "--data", data, "-c", watched); code != 0 || strings.Contains(errs, "not in effect") {
		t.Fatalf("a released project: exit %d, stderr %q", code, errs)
	}
}
