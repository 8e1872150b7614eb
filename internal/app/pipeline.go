package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// openPipeline builds the release engine over the deployments domain, the
// vault (step secrets and webhook secrets), the audit log and the log as
// notifier, and recovers runs a previous process left behind.
func (a *App) openPipeline(ctx context.Context) error {
	data := a.opts.DataDir
	retention := a.opts.RunRetention
	retention.InUse = a.Deploy.DeployedReleases
	a.pruneKick, a.adoptKick = make(chan struct{}, 1), make(chan struct{}, 1)
	hidden, err := a.stepHidden()
	if err != nil {
		return err
	}
	a.Pipeline, err = pipeline.New(pipeline.Options{DB: a.DB, LogDir: filepath.Join(data, "runs"),
		Logger: a.log.With("domain", "pipeline"), Env: childEnv(os.Environ()),
		Hidden: hidden, Homes: filepath.Join(data, "homes"),
		// Artifacts are built into the deployments' store: with --blob-store
		// that is the bucket behind the data dir's cache, so the blobs a run
		// builds are where its deploy (and every replica) looks for them.
		Deps: action.Deps{Deployer: runDeployer{action.DeployService{Svc: a.Deploy, Blobs: a.store}}, Blobs: a.store,
			Secrets: vaultSecrets{a.Vault}, Notifier: a.notifier(), Backups: backupActions{a},
			AdvisoryDir: filepath.Join(data, "advisories"), ToolsDir: filepath.Join(data, "tools"),
			EnvURL: a.localURL, EnvHeaders: a.probeHeaders()},
		Audit: a.auditPipeline, CanApprove: a.canApprove, MinApprovals: a.minApprovals, Runner: a.runner, Retention: retention,
		OnFinish: a.runEnded, Preflight: a.releasePreflight, OnRelease: a.releaseConfig, Transient: a.opts.InProcess})
	if err != nil {
		return err
	}
	a.startPrune()
	if a.opts.Replica.On {
		a.Pipeline.Open(ctx)
		a.singleton(func(ctx context.Context) {
			for {
				err := a.Pipeline.Lead(ctx)
				if err == nil || ctx.Err() != nil {
					return
				}
				a.log.Error("pipeline: cannot take over the runs; trying again", "err", err)
				t := time.NewTimer(time.Second)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		})
	} else if err := a.Pipeline.Start(ctx); err != nil {
		return err
	}
	a.onStop(a.Pipeline.Stop)
	return nil
}

// runDeployer is the pipeline's Deployer: a run's deploy step changes
// the environment (env.save, as phoenix.yaml declares it) under the run's
// actor, as it deploys under it, and not under no one: a step runs outside
// any request, so nothing else names who acted.
type runDeployer struct{ action.DeployService }

func (d runDeployer) Deploy(ctx context.Context, r action.DeployRequest) (*action.DeployResult, error) {
	return d.DeployService.Deploy(audit.WithActor(ctx, r.Actor), r)
}

// childEnv is the server's environment without what no step may inherit:
// the vault key, the backup key, API tokens and the state database's URL
// and password.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if ServerOnlyEnv(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// ServerOnlyEnv reports whether the environment variable name is the
// server's own credential, which neither a step inherits nor a channel's
// env:NAME reads.
func ServerOnlyEnv(name string) bool {
	return strings.HasPrefix(name, vault.MasterKeyEnv) || strings.HasPrefix(name, "PHOENIX_BACKUP_KEY") || name == "PHOENIX_TOKEN" ||
		name == "PHOENIX_DATABASE_URL" || name == "PGPASSWORD"
}

// auditPipeline writes a pipeline event to the audit log, in the change's
// transaction when it has one.
func (a *App) auditPipeline(ctx context.Context, tx *sql.Tx, e pipeline.AuditEvent) error {
	outcome := strings.ToLower(e.Outcome)
	if outcome == "" {
		outcome = audit.OK
	}
	ev := audit.Event{Action: e.Action, Target: e.Target, Actor: e.Actor, Outcome: outcome, Detail: e.Detail}
	var err error
	if tx != nil {
		_, err = a.Audit.AppendTx(ctx, tx, ev)
	} else {
		_, err = a.Audit.Append(ctx, ev)
	}
	return err
}

// canApprove checks that actor holds the approve permission in env and,
// when the environment names approvers, is one of them or has one of
// those roles.
// minApprovals is the approvals the stored environment requires (0 for
// one not created yet): a release's gate asks for at least that many.
func (a *App) minApprovals(ctx context.Context, project, env string) (int, error) {
	e, err := a.Deploy.Environment(ctx, project, env)
	if usererr.KindOf(err) == usererr.NotFound {
		return 0, nil
	}
	return e.Approvals, err
}

func (a *App) canApprove(ctx context.Context, actor, env string, approvers []string) bool {
	pr, err := a.Auth.UserPrincipal(ctx, actor)
	if err != nil || !pr.Can(auth.Approve, auth.Resource{Environment: env}) {
		return false
	}
	if len(approvers) == 0 || slices.Contains(approvers, actor) {
		return true
	}
	for _, g := range pr.Grants {
		if slices.Contains(approvers, g.Role) && (g.Environment == "" || g.Environment == env) {
			return true
		}
	}
	return false
}

// vaultSecrets serves step and webhook secrets from the vault. A step's
// context names its run and target environment (action.RunFrom), so the
// vault's policy sees the real subject: production secrets reach only runs
// that deploy to production. Webhook verification carries no run and asks
// as a non-production pipeline.
type vaultSecrets struct{ v *vault.Vault }

// secretSubject is who asks the vault, from the run in ctx.
func secretSubject(ctx context.Context) vault.Subject {
	run, ok := action.RunFrom(ctx)
	if !ok {
		return vault.Subject{Actor: "pipeline", Pipeline: "release"}
	}
	sub := vault.Subject{Actor: "pipeline " + run.Trigger + "#" + run.ID, Pipeline: run.Trigger, Environment: run.Environment}
	envs := run.Environments
	if run.Environment != "" {
		envs = []string{run.Environment}
	}
	sub.Production = slices.ContainsFunc(envs, isProductionEnv)
	return sub
}

// isProductionEnv: the environment named production (or prod) is where
// production secrets may go.
func isProductionEnv(name string) bool { return name == "production" || name == "prod" }

// rotationSubject reads the metadata vault.rotation's check needs (when
// a secret was last set), which runs may not list.
var rotationSubject = vault.Subject{Actor: "phoenix:release", Roles: []string{"admin"}}

// SecretSetAt is when name's newest version was set (action.SecretAger).
func (s vaultSecrets) SecretSetAt(ctx context.Context, name string) (time.Time, error) {
	vs, err := s.v.History(ctx, rotationSubject, name)
	if err != nil {
		return time.Time{}, err
	}
	if len(vs) == 0 {
		return time.Time{}, fmt.Errorf("%s has no version", name)
	}
	return vs[0].CreatedAt, nil
}

func (s vaultSecrets) Secret(ctx context.Context, name string) (string, error) {
	val, _, err := s.v.Get(ctx, secretSubject(ctx), name, 0)
	if errors.Is(err, vault.ErrNotFound) {
		return "", errors.Join(action.ErrNoSecret, err)
	}
	if errors.Is(err, vault.ErrProductionOnly) {
		return "", productionOnly(ctx, name, err)
	}
	if err != nil {
		return "", err
	}
	return val.Reveal(), nil
}

// productionOnlyError is a production secret kept from a run that does
// not deploy to production, said in one sentence that names the secret,
// the run and the way out; it is action.ErrProductionOnly (fetch-secrets
// passes over it) and the vault's denial.
type productionOnlyError struct {
	msg    string
	denial error
}

func (e *productionOnlyError) Error() string   { return e.msg }
func (e *productionOnlyError) Unwrap() []error { return []error{action.ErrProductionOnly, e.denial} }

func productionOnly(ctx context.Context, name string, denial error) error {
	run := "this run"
	where := ""
	if r, ok := action.RunFrom(ctx); ok {
		run = "run " + r.Trigger + "#" + r.ID
		switch {
		case r.Environment != "":
			where = " (this step acts on " + r.Environment + ")"
		case len(r.Environments) > 0:
			where = " (it acts on " + strings.Join(r.Environments, ", ") + ")"
		}
	}
	return &productionOnlyError{denial: denial, msg: fmt.Sprintf("%s is a production secret and %s does not deploy to production%s, "+
		"so it may not read it: read it in a step that deploys to production, or, if every run may have it, "+
		"set it again with 'phoenix secret set %s --production=false' (and keep it out of the vault policy's production globs)",
		name, run, where, name)}
}

// serverPolicy is the vault policy without a policy file: admins do
// everything, pipeline runs read (production secrets only in production
// runs, as the vault enforces).
func serverPolicy() *vault.Policy {
	p := vault.DefaultPolicy()
	p.Rules = append(p.Rules, vault.Rule{Secrets: []string{"*"}, Pipelines: []string{"*"}, Allow: []vault.Permission{vault.PermRead}})
	return &p
}

// notifier delivers pipeline notifications to the log and the channels.
func (a *App) notifier() action.Notifier {
	return pipelineNotifier{log: action.LogNotifier{Logger: a.log.With("component", "notify")}, d: a.Notify, why: a.undelivered,
		links: a.releaseLinks, public: a.opts.PublicURL}
}

// releaseLinks are the public addresses of a project's environments, for
// a release's announcement: each one's domains (HTTPS, as a deployment's
// verification links them), else its name under --sites-domain. An
// environment with neither answers only on this machine
// (<env>.<project>.localhost), which is no link for a channel's readers.
func (a *App) releaseLinks(ctx context.Context, project string, envs []string) []notify.Link {
	var out []notify.Link
	for _, name := range envs {
		e, err := a.Deploy.Environment(ctx, project, name)
		if err != nil {
			continue // not declared (yet): nothing to link
		}
		for _, d := range e.Domains {
			out = append(out, notify.Link{Title: name + ": " + d, URL: "https://" + d + "/"})
		}
		if len(e.Domains) == 0 && a.opts.SitesDomain != "" {
			out = append(out, notify.Link{Title: name, URL: a.EdgeURL(project, name)})
		}
	}
	return out
}
