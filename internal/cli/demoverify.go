package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// demoBrokenDeploy deploys a broken v1.2.0 straight to production, past
// the pipeline: the server verifies the activation against production's
// health checks in phoenix.yaml, finds the home page wrong, and rolls back
// to v1.1.0 by itself with a critical deploy.rolled_back notification.
func demoBrokenDeploy(ctx context.Context, out io.Writer, a *app.App, c *client.Client, proj, project string) error {
	broken := filepath.Join(filepath.Dir(proj), "broken")
	if err := os.CopyFS(broken, os.DirFS(filepath.Join(proj, "dist"))); err != nil {
		return err
	}
	page := "<!doctype html><title>v1.2.0</title><h1>500: the home page lost its content</h1>\n"
	if err := os.WriteFile(filepath.Join(broken, "index.html"), []byte(page), 0o644); err != nil {
		return err
	}
	m, err := artifact.Build(ctx, broken, a.Blobs, artifact.BuildOptions{Meta: artifact.Meta{Project: project, Release: "v1.2.0"}})
	if err != nil {
		return err
	}
	canon, err := m.Canonical()
	if err != nil {
		return err
	}
	step(out, "deploying a broken v1.2.0 straight to production, past the pipeline (its home page lost its content)")
	res, err := c.Deploy(ctx, client.DeployRequest{Project: project, Environment: "production", Manifest: canon, Blobs: a.Blobs,
		Message: "phoenix demo: a hotfix straight to production"})
	if err != nil {
		return err
	}
	start := time.Now()
	step(out, "deployment %d is live; the server verifies it against production's health checks for %s", res.ID, demoSoak)
	back, err := waitForRollback(ctx, c, project, res.ID)
	if err != nil {
		return err
	}
	by := "the server"
	var recs api.Page[audit.Record]
	if err := c.Do(ctx, "GET", client.Path("audit")+"?action=deploy.rollback&limit=1000", nil, &recs); err == nil && len(recs.Items) > 0 {
		by = recs.Items[len(recs.Items)-1].Actor // the audit log's record of it
	}
	step(out, "verification failed (the home page lacks \"Phoenix example\"): %s rolled production back to %s (deployment %d) %s after the deploy",
		by, back.Release, back.ID, time.Since(start).Round(100*time.Millisecond))
	step(out, "a critical deploy.rolled_back notification went to the project's channels (the example configures none)")
	return healthCheck(ctx, out, a, project, "production", back.Release)
}

// waitForRollback polls production until deployment id is no longer the
// active one and returns the one that is.
func waitForRollback(ctx context.Context, c *client.Client, project string, id int64) (deploy.Deployment, error) {
	deadline := time.Now().Add(demoSoak + 30*time.Second)
	for time.Now().Before(deadline) {
		var page api.Page[deploy.Deployment]
		path := client.Path("projects", project, "environments", "production", "deployments") + "?limit=10"
		if err := c.Do(ctx, "GET", path, nil, &page); err != nil {
			return deploy.Deployment{}, err
		}
		for _, d := range page.Items {
			if d.Active && d.ID != id {
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return deploy.Deployment{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return deploy.Deployment{}, usererr.New(usererr.Internal, "the broken deployment %d was not rolled back in time", id)
}
