package action

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestDeployTakesThePromotedArtifact: a deploy step given promote_from
// (a release planned as a promotion, with no build) deploys the artifact
// that environment ran of the version. When it has none that counts by
// then (taken back since the release was planned) the step fails, naming
// why, and nothing is deployed.
func TestDeployTakesThePromotedArtifact(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"staging": {}, "production": {PromoteFrom: "staging"}}
	d, built := builtContext(t, svc, blobs, cfg)

	promo, log, outs := newContext(t, t.TempDir(), cfg, nil)
	promo.With["environment"], promo.With[spec.PromoteInput] = "production", "staging"
	err := d.deploy(ctx, promo)
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "staging, which no longer has a deployment of v1.0.0 that ran") {
		t.Fatalf("nothing on staging: %v", err)
	}
	if ds, _ := svc.Deployments(ctx, "site", "production", 1); len(ds) != 0 {
		t.Fatalf("production got %+v", ds)
	}

	built.With["environment"] = "staging"
	if err := d.deploy(ctx, built); err != nil {
		t.Fatal(err)
	}
	if err := d.deploy(ctx, promo); err != nil {
		t.Fatal(err)
	}
	ds, err := svc.Deployments(ctx, "site", "staging", 1)
	if err != nil || len(ds) != 1 || outs["artifact"] != string(ds[0].Artifact) {
		t.Fatalf("production got %s, staging runs %+v (%v)", outs["artifact"], ds, err)
	}
	if !strings.Contains(log.String(), "promote_from: staging: deploying the artifact staging ran of v1.0.0, "+outs["artifact"]) {
		t.Errorf("log:\n%s", log)
	}
}
