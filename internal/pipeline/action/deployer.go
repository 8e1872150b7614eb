package action

import (
	"cmp"
	"context"
	"fmt"

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
		Message: r.Message, Approvals: r.ApprovalsGiven})
	if err != nil {
		return nil, err
	}
	return &DeployResult{ID: dep.ID, Artifact: string(dep.Artifact), Release: dep.Release}, nil
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
// newest earlier deployment that did not fail (deploy.Service.Revert).
func (d DeployService) Rollback(ctx context.Context, r RollbackRequest) (*DeployResult, error) {
	dep, err := d.Svc.Revert(ctx, deploy.RevertRequest{Project: r.Project, Environment: r.Environment,
		Failed: r.Failed, Reason: r.Reason, Actor: r.Actor})
	if err != nil {
		return nil, err
	}
	return &DeployResult{ID: dep.ID, Artifact: string(dep.Artifact), Release: dep.Release}, nil
}
