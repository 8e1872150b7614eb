package app

import (
	"context"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// PreviewActor is the audit log's actor of the previews the server
// deletes itself, past their ttl.
const PreviewActor = "phoenix:previews"

// previewEvery is how often expired previews are looked for: often
// enough that a preview outlives its ttl by minutes, not by an hour.
const previewEvery = 5 * time.Minute

// previewPolicy is project's preview policy from the phoenix.yaml the
// server holds (deploy.Options.Previews).
func (a *App) previewPolicy(_ context.Context, project string) deploy.PreviewPolicy {
	var cfg *config.Config
	if a.projects != nil {
		a.projects.mu.Lock()
		cfg = a.projects.cfg[project]
		a.projects.mu.Unlock()
	}
	return previewPolicyOf(project, cfg)
}

// defaultPreviewTTL is the schema's default ttl.
const defaultPreviewTTL = 7 * 24 * time.Hour

// previewPolicyOf reads the policy from cfg (nil: the server holds no
// phoenix.yaml of project). Previews follow the environment that enables
// them; when several do, the shortest ttl and the smallest max apply, so
// no environment's promise is broken. With none enabling them, those
// left from before still expire after the default ttl; with no file the
// server knows nothing of them and keeps them.
func previewPolicyOf(project string, cfg *config.Config) deploy.PreviewPolicy {
	if cfg == nil {
		return deploy.PreviewPolicy{Why: fmt.Sprintf("the server holds no phoenix.yaml of project %s", project)}
	}
	p := deploy.PreviewPolicy{TTL: defaultPreviewTTL}
	var off []string
	for _, name := range cfg.EnvironmentNames() {
		e := cfg.Environments[name]
		if e == nil || !e.Preview.Enabled {
			if e != nil && e.Preview.TTL != 0 { // written, and false
				off = append(off, "environments."+name+".preview")
			}
			continue
		}
		setting := "environments." + name + ".preview"
		if !p.Enabled || time.Duration(e.Preview.TTL) < p.TTL {
			p.TTL = time.Duration(e.Preview.TTL)
		}
		if e.Preview.Max > 0 && (p.Max == 0 || e.Preview.Max < p.Max) {
			p.Max = e.Preview.Max
		}
		if p.Setting == "" {
			p.Setting = setting
		}
		p.Enabled = true
	}
	switch {
	case p.Enabled:
	case len(off) > 0:
		p.Why = off[0] + " is false"
	default:
		p.Why = "no environment of its phoenix.yaml sets preview"
	}
	return p
}

// startPreviewExpiry deletes expired previews on the leader every
// previewEvery.
func (a *App) startPreviewExpiry() {
	a.singletonEvery(previewEvery, previewEvery, a.expirePreviews)
}

// expirePreviews deletes the previews past their ttl now.
func (a *App) expirePreviews(ctx context.Context) {
	n, err := a.Deploy.ExpirePreviews(audit.WithActor(ctx, PreviewActor), time.Now())
	if err != nil && ctx.Err() == nil {
		a.log.Error("deploy: deleting expired previews failed", "err", err)
	}
	if n > 0 {
		a.log.Info("deploy: deleted expired previews", "count", n)
	}
}
