package action

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

type recordingDeployer struct {
	Deployer
	got []RollbackRequest
}

func (r *recordingDeployer) Rollback(_ context.Context, req RollbackRequest) (*DeployResult, error) {
	r.got = append(r.got, req)
	return &DeployResult{ID: 5, Release: "v1.0.0"}, nil
}

// TestRollbackNamesTheFailedDeploymentAndWhy: the rollback step hands the
// deployer the deployment this run made and the failed steps that act on
// its environment, so the failure is recorded on that deployment.
func TestRollbackNamesTheFailedDeploymentAndWhy(t *testing.T) {
	rec := &recordingDeployer{}
	d := &Deps{Deployer: rec}
	sc, log, _ := newContext(t, t.TempDir(), nil, nil)
	sc.Run.Environments = []string{"staging", "production"}
	sc.With["environments"] = []any{"staging", "production"}
	sc.Deployed = func(env string) bool { return true }
	sc.Deployment = func(env string) int64 { return map[string]int64{"staging": 6, "production": 7}[env] }
	sc.Failed = func() []*spec.Step {
		return []*spec.Step{{ID: "health-check/production", Environment: "production"}, {ID: "smoke"}}
	}
	if err := d.rollback(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	want := []RollbackRequest{
		{Project: "site", Environment: "staging", Failed: 6, Reason: "the release failed at health-check/production, smoke"},
		{Project: "site", Environment: "production", Failed: 7, Reason: "health-check/production"},
	}
	if len(rec.got) != len(want) {
		t.Fatalf("requests %+v", rec.got)
	}
	for i, w := range want {
		if rec.got[i] != w {
			t.Errorf("request %d = %+v, want %+v", i, rec.got[i], w)
		}
	}
	if !strings.Contains(log.String(), "production: rolled back to deployment 5 (v1.0.0); the one this run made is recorded as failed (health-check/production)") {
		t.Errorf("log:\n%s", log)
	}
}

// TestRollbackWithAutoOffRecordsTheFailure: where rollback.auto is off the
// failed deployment stays live, but the rollback step still records it as
// failed, so an environment promoting from this one does not take it.
func TestRollbackWithAutoOffRecordsTheFailure(t *testing.T) {
	rec := &recordingDeployer{}
	d := &Deps{Deployer: rec}
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"staging": {Rollback: config.RollbackPolicy{Auto: false}}}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	sc.With["environment"] = "staging"
	sc.Deployed = func(env string) bool { return true }
	sc.Deployment = func(env string) int64 { return 6 }
	sc.Failed = func() []*spec.Step { return []*spec.Step{{ID: "health-check/staging", Environment: "staging"}} }
	if err := d.rollback(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	want := RollbackRequest{Project: "site", Environment: "staging", Failed: 6, Reason: "health-check/staging", Keep: true}
	if len(rec.got) != 1 || rec.got[0] != want {
		t.Fatalf("requests %+v, want %+v", rec.got, want)
	}
	if !strings.Contains(log.String(), "staging: rollback.auto is off; leaving the failed release live, recorded as failed verification (health-check/staging)") ||
		strings.Contains(log.String(), "rolled back") {
		t.Errorf("log:\n%s", log)
	}
}
