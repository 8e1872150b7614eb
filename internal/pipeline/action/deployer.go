package action

import (
	"cmp"
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// DeployService is the Deployer of a Phoenix server: the deployments
// domain with the blob store artifacts are built into.
type DeployService struct {
	Svc   *deploy.Service
	Blobs backend.Backend
}

// Deploy declares the environment, records the upload, sends any blob the
// store lacks and finalizes with the run's approval.
func (d DeployService) Deploy(ctx context.Context, r DeployRequest) (*DeployResult, error) {
	if err := d.Svc.EnsureProject(ctx, r.Project); err != nil {
		return nil, err
	}
	if err := d.declare(ctx, r); err != nil {
		return nil, err
	}
	if r.Edge != nil {
		if _, err := d.Svc.SetEdgePolicy(ctx, r.Project, r.Edge, r.Actor); err != nil {
			return nil, err
		}
	}
	promoted, err := d.promotion(ctx, &r)
	if err != nil {
		return nil, err
	}
	up, err := d.Svc.BeginUpload(ctx, r.Project, r.Manifest)
	if err != nil {
		return nil, err
	}
	for _, dg := range up.Missing {
		if err := d.putBlob(ctx, up.ID, dg); err != nil {
			return nil, err
		}
	}
	dep, err := d.Svc.Finalize(ctx, up.ID, deploy.FinalizeOptions{Environment: r.Environment, Actor: r.Actor,
		Message: r.Message, Run: r.Run, RunChecks: r.RunChecks, Approvals: r.ApprovalsGiven})
	if err != nil {
		return nil, err
	}
	return &DeployResult{ID: dep.ID, Artifact: string(dep.Artifact), Release: dep.Release, Promoted: promoted}, nil
}

// promotion makes r deploy, instead of the run's build, the artifact that
// the environment r's promotes from (as the server has it) ran of
// r.Release, when the run did not deploy there itself (a release to
// production alone after one to staging): a build is another artifact
// each time, which promote_from would refuse. Nil when r deploys the
// run's build: no promotion, the run deployed there itself (the one run
// to staging and production), that environment ran no artifact of the
// release (the server then refuses the build, saying so), or it ran this
// very build.
func (d DeployService) promotion(ctx context.Context, r *DeployRequest) (*Promotion, error) {
	if r.RunDeployed == nil || r.Release == "" {
		return nil, nil
	}
	env, err := d.Svc.Environment(ctx, r.Project, r.Environment)
	if err != nil || env.PromoteFrom == "" || r.RunDeployed(env.PromoteFrom) {
		return nil, err
	}
	ran, canon, err := d.Svc.Promotable(ctx, r.Project, env.PromoteFrom, r.Release)
	if err != nil || ran == nil {
		return nil, err
	}
	built := backend.Sum(r.Manifest)
	if ran.Artifact == built {
		return nil, nil
	}
	mine, err := artifact.Decode(r.Manifest)
	if err != nil {
		return nil, fmt.Errorf("deploy: the run's artifact: %w", err)
	}
	theirs, err := artifact.Decode(canon)
	if err != nil {
		return nil, fmt.Errorf("deploy: the artifact %s ran: %w", env.PromoteFrom, err)
	}
	r.Manifest = canon
	return &Promotion{From: env.PromoteFrom, Deployment: ran.ID, Artifact: string(ran.Artifact), Built: string(built),
		SameFiles: artifact.SameFiles(mine, theirs)}, nil
}

// declare saves the environment as phoenix.yaml declares it; an
// environment phoenix.yaml does not declare is created when missing and
// otherwise left as it is (its allow-list, domains and lock stay). A
// release never weakens the protection it is gated by: the approvals the
// environment needs and its lock only go up this way, and its promote_from
// is set only where none is stored (a release cannot drop or move it);
// lowering them takes someone with env.write (phoenix deploy, the API).
func (d DeployService) declare(ctx context.Context, r DeployRequest) error {
	cur, err := d.Svc.Environment(ctx, r.Project, r.Environment)
	switch {
	case usererr.KindOf(err) == usererr.NotFound:
	case err != nil:
		return err
	case !r.Declared:
		return nil
	default:
		r.Approvals, r.Locked = max(r.Approvals, cur.Approvals), r.Locked || cur.Locked
		r.PromoteFrom = cmp.Or(cur.PromoteFrom, r.PromoteFrom)
	}
	return d.Svc.EnsureEnvironment(ctx, r.Project, deploy.EnvSpec{Name: r.Environment, Locked: r.Locked,
		Approvals: r.Approvals, Domains: r.Domains, IPAllow: r.IPAllow, PromoteFrom: r.PromoteFrom})
}

// RunPassed records that run's health checks passed on its deployment id
// of project's env (deploy.Service.RunPassed).
func (d DeployService) RunPassed(ctx context.Context, project, env string, id int64, run string) (bool, error) {
	return d.Svc.RunPassed(ctx, project, env, id, run)
}

// Hold opens (or renews) an upload of the manifest: its blobs are then
// named by an open upload and garbage collection leaves them.
func (d DeployService) Hold(ctx context.Context, project string, manifest []byte) (int, error) {
	up, err := d.Svc.BeginUpload(ctx, project, manifest)
	if err != nil {
		return 0, err
	}
	return len(up.Missing), nil
}

var _ Holder = DeployService{}

func (d DeployService) putBlob(ctx context.Context, upload string, dg backend.Digest) error {
	info, err := d.Blobs.Stat(ctx, dg)
	if err != nil {
		return fmt.Errorf("deploy: blob %s of the artifact: %w", dg, err)
	}
	rc, err := d.Blobs.Get(ctx, dg)
	if err != nil {
		return fmt.Errorf("deploy: blob %s of the artifact: %w", dg, err)
	}
	defer rc.Close()
	return d.Svc.PutBlob(ctx, upload, dg, rc, info.Size)
}

// Rollback records r.Failed as failed verification and re-activates the
// newest earlier deployment that passed verification, else that did not
// fail (deploy.Service.Revert);
// with r.Keep it leaves it live (deploy.Service.KeepFailed).
func (d DeployService) Rollback(ctx context.Context, r RollbackRequest) (*DeployResult, error) {
	req := deploy.RevertRequest{Project: r.Project, Environment: r.Environment, Failed: r.Failed, Reason: r.Reason, Actor: r.Actor}
	if r.Keep {
		return &DeployResult{ID: r.Failed}, d.Svc.KeepFailed(ctx, req)
	}
	dep, err := d.Svc.Revert(ctx, req)
	if err != nil {
		return nil, err
	}
	return &DeployResult{ID: dep.ID, Artifact: string(dep.Artifact), Release: dep.Release}, nil
}
