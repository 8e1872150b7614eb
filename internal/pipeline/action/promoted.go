package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Promoter is a Deployer that also says what promotion would deploy, so
// a release knows when it is planned whether it needs a build at all.
type Promoter interface {
	// PromoteFrom returns the environment project's env promotes from as
	// the server has it: "" when it promotes from none or is not known.
	PromoteFrom(ctx context.Context, project, env string) (string, error)
	// Promotable returns the newest deployment on env of project of an
	// artifact of release that ran there (as promote_from counts it),
	// nil when there is none.
	Promotable(ctx context.Context, project, env, release string) (*Promoted, error)
}

// Promoted is an artifact that ran on an environment: a deployment there
// and the artifact's manifest (canonical bytes).
type Promoted struct {
	Deployment int64
	Artifact   string // its digest
	Manifest   []byte
	Run        string // the pipeline run that made the deployment; "" for phoenix deploy
}

// PromoteFrom returns the promote_from of project's env on the server.
func (d DeployService) PromoteFrom(ctx context.Context, project, env string) (string, error) {
	e, err := d.Svc.Environment(ctx, project, env)
	if usererr.KindOf(err) == usererr.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return e.PromoteFrom, nil
}

// Promotable returns what env ran of release (deploy.Service.Promotable).
func (d DeployService) Promotable(ctx context.Context, project, env, release string) (*Promoted, error) {
	dep, canon, err := d.Svc.Promotable(ctx, project, env, release)
	if err != nil || dep == nil {
		return nil, err
	}
	return &Promoted{Deployment: dep.ID, Artifact: string(dep.Artifact), Manifest: canon, Run: dep.Run}, nil
}

var _ Promoter = DeployService{}

// manifestToDeploy returns the manifest the deploy step puts live on env:
// with the promote_from input, the artifact that environment ran of the
// run's version (the run built none); otherwise the run's build, from
// create-artifact (or the inputs manifest and from).
func (d *Deps) manifestToDeploy(ctx context.Context, sc *Context, env string) ([]byte, error) {
	if from := sc.String(spec.PromoteInput); from != "" {
		return d.promotedManifest(ctx, sc, env, from)
	}
	path := firstNonEmpty(sc.String("manifest"), sc.Output(firstNonEmpty(sc.String("from"), "create-artifact"), "manifest"),
		filepath.Join(sc.Files, "manifest.json"))
	canon, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deploy: no artifact manifest (run create-artifact first): %w", err)
	}
	return canon, nil
}

// promotedManifest is the manifest of the artifact from ran of the run's
// version, which env promotes from. The release was planned without a
// build because from had run one; should it no longer count (taken back
// as failed since, or dropped by retention) the step fails, as a deploy
// of a build of the run's own would have been refused.
func (d *Deps) promotedManifest(ctx context.Context, sc *Context, env, from string) ([]byte, error) {
	p, ok := d.Deployer.(Promoter)
	if !ok {
		return nil, fmt.Errorf("deploy: %s: this server cannot look up what %s ran (no promotion support)", spec.PromoteInput, from)
	}
	ran, err := p.Promotable(ctx, sc.Run.Project, from, sc.Run.Version)
	if err != nil {
		return nil, err
	}
	if ran == nil {
		return nil, usererr.New(usererr.Conflict, "deploy: %s promotes from %s, which no longer has a deployment of %s that ran (it had one when this "+
			"release was queued, so the run built nothing)", env, from, sc.Run.Version).
			WithHint("release %s to %s again, then to %s", sc.Run.Version, from, env)
	}
	sc.Logf("%s: %s: deploying the artifact %s ran of %s, %s (deployment %d there); this run built none (a promotion: the build was left out when the release was planned)",
		spec.PromoteInput, from, from, sc.Run.Version, ran.Artifact, ran.Deployment)
	return ran.Manifest, nil
}
