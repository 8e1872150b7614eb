package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// TestTablesShowLiveSince: 'phoenix projects' and 'phoenix status' show
// since when the active deployment is live (a rollback returned to it
// days after its creation), not its creation; from a server that does
// not send live_since, its creation.
func TestTablesShowLiveSince(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	live := time.Date(2026, 11, 26, 17, 30, 0, 0, time.UTC)

	var out bytes.Buffer
	ps := []deploy.Project{{Name: "shop", Environments: []deploy.ProjectEnv{
		{Name: "production", Kind: "standard", Deployment: 7, Release: "v1", DeployedAt: created, LiveSince: &live},
		{Name: "staging", Kind: "standard", Deployment: 9, Release: "v2", DeployedAt: created}}}}
	if err := projectsTable(&out, ps); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasSuffix(strings.TrimSpace(lines[0]), "LIVE SINCE") ||
		!strings.HasSuffix(lines[1], live.Local().Format(time.DateTime)) || !strings.HasSuffix(lines[2], created.Local().Format(time.DateTime)) {
		t.Fatalf("phoenix projects:\n%s", out.String())
	}

	out.Reset()
	rs := []api.EnvReport{
		{EnvStatus: monitor.EnvStatus{Environment: "production.shop"}, Release: "v1", DeployedAt: created, LiveSince: &live},
		{EnvStatus: monitor.EnvStatus{Environment: "staging.shop"}, Release: "v2", DeployedAt: created}}
	if err := printStatus(&out, rs, live); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(out.String(), "\n")
	if !strings.Contains(lines[0], "RELEASE  LIVE SINCE") || !strings.Contains(lines[1], " 2026-11-26 17:30 ") ||
		!strings.Contains(lines[2], " 2026-11-20 09:00 ") {
		t.Fatalf("phoenix status:\n%s", out.String())
	}
}
