package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestProjectsCommand: after a deploy to staging of a project whose
// phoenix.yaml declares staging and production, 'phoenix projects' lists
// both, production with "no deployment yet", as a table and as JSON.
// Staging's deployment, made without a server, stays pending verification
// (no in-process server verifies it), which both show.
func TestProjectsCommand(t *testing.T) {
	t.Parallel()
	data := deployToStaging(t, "project: {name: shop}\nenvironments:\n  staging: {}\n  production: {domains: [shop.example.com]}\n")
	out := mustRun(t, "", "projects", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "PROJECT") {
		t.Fatalf("table:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[0] != "shop" || f[1] != "production" || f[3] != "shop.example.com" || !strings.Contains(lines[1], "no deployment yet") {
		t.Fatalf("production row: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[1] != "staging" || f[3] != "-" || f[4] == "no" ||
		!strings.Contains(lines[2], " (verification pending since ") {
		t.Fatalf("staging row: %q", lines[2])
	}
	var ps []deploy.Project
	if err := json.Unmarshal([]byte(mustRun(t, "", "projects", "-o", "json", "--data", data)), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || len(ps[0].Environments) != 2 || ps[0].Environments[0].Deployment != 0 || ps[0].Environments[1].Deployment == 0 {
		t.Fatalf("json: %+v", ps)
	}
	if st := ps[0].Environments[1]; st.Verification != deploy.VerifyPending || st.VerificationAt == nil || ps[0].Environments[0].Verification != "" {
		t.Fatalf("json: staging's verification %q at %v, production's %q", st.Verification, st.VerificationAt, ps[0].Environments[0].Verification)
	}
	if out := mustRun(t, "", "projects", "-o", "json", "--data", t.TempDir()); strings.TrimSpace(out) != "[]" {
		t.Fatalf("no projects: %q, want []", out)
	}
}

// TestProjectRelease: the RELEASE cell adds where the server's
// verification of the active release stands unless it passed or the
// server does not verify it.
func TestProjectRelease(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 27, 1, 42, 4, 0, time.UTC)
	for _, c := range []struct {
		e    deploy.ProjectEnv
		want string
	}{
		{deploy.ProjectEnv{Release: "v1"}, "v1"},
		{deploy.ProjectEnv{}, "-"},
		{deploy.ProjectEnv{Release: "v1", Verification: deploy.VerifyPassed}, "v1"},
		{deploy.ProjectEnv{Release: "v1", Verification: deploy.VerifyPending, VerificationAt: &since},
			"v1 (verification pending since " + since.Local().Format(time.DateTime) + ")"},
		{deploy.ProjectEnv{Release: "v1", Verification: deploy.VerifyPending}, "v1 (verification pending)"},
		{deploy.ProjectEnv{Release: "v1", Verification: deploy.VerifyFailed}, "v1 (failed verification)"},
	} {
		if got := projectRelease(c.e); got != c.want {
			t.Errorf("projectRelease(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
}

// deployToStaging deploys a one-page site to the staging environment of
// the project phoenix.yaml (its text) declares, on a new data dir, and
// returns the data dir.
func deployToStaging(t *testing.T, yaml string) string {
	t.Helper()
	data, site := t.TempDir(), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<title>hi</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "deploy", site, "--env", "staging", "-c", cfg, "--data", data)
	return data
}
