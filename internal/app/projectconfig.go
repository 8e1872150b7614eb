package app

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// A project's phoenix.yaml (its probes, alert rules, channels and health
// checks) reaches the server two ways: a release hands it over when its
// run is accepted (releaseConfig), 'phoenix deploy' through the API
// (putConfig). Both store it in the database (projectcfg), the newest
// winning, and put it in effect at once. A start, and each replica when
// the stored revision changes, read it back (loadProject). A project
// with none stored (releases made before this server version) is read
// from the folder of its latest pipeline run, as before.

// openConfigs opens the store of the projects' phoenix.yaml.
func (a *App) openConfigs() {
	a.Configs = projectcfg.New(projectcfg.Options{DB: a.DB, Audit: a.auditConfig})
}

// auditConfig writes a stored phoenix.yaml to the audit log in its
// transaction.
func (a *App) auditConfig(ctx context.Context, tx *sql.Tx, e projectcfg.Event) error {
	_, err := a.Audit.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Project, Actor: e.Actor, Detail: e.Detail})
	return err
}

// releaseConfig stores a release's phoenix.yaml as its project's and puts
// it in effect when the run is accepted (pipeline.Options.OnRelease): its
// channels announce the release, even one that fails before deploying
// anything. Not stored (the database is down), it is in effect here
// until the next start.
func (a *App) releaseConfig(r *pipeline.Run, cfg *config.Config) {
	e := projectcfg.Entry{Project: cfg.Project.Name, Kind: projectcfg.Release, Release: r.Version, Run: r.ID, Actor: r.Actor}
	e.YAML, e.Dir = a.releaseFile(r, cfg)
	if _, _, err := a.storeConfig(context.Background(), e, cfg); err != nil {
		a.log.Error("monitor: the release's phoenix.yaml is in effect but not stored; the next start reads the previous one",
			"project", e.Project, "run", r.ID, "err", err)
		a.useConfig(e.Project, cfg, nil)
	}
}

// releaseFile is what is stored of a release's phoenix.yaml: the file the
// release read (and the API checked), or the run's folder holding it when
// it has a secret value written in it (the database keeps no secret; a
// replica without that folder then does not see it) or cannot be read
// again.
func (a *App) releaseFile(r *pipeline.Run, cfg *config.Config) ([]byte, string) {
	if fields := cfg.LiteralSecrets(); len(fields) > 0 {
		a.log.Warn("monitor: phoenix.yaml has a secret value written in it: the server stores the path of the run's folder, "+
			"not the file; store it with 'phoenix secret set NAME' and write secret:NAME", "project", cfg.Project.Name, "fields", fields)
		return nil, r.Dir
	}
	if b := cfg.Source(); b != nil {
		return b, "" // not the file as it is now: it may have changed since it was checked
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, "phoenix.yaml"))
	if err != nil {
		return nil, r.Dir
	}
	if _, err := config.Parse(b, ""); err != nil { // changed since the release read it
		return nil, r.Dir
	}
	return b, ""
}

// storeConfig stores e, whose file is cfg, and puts it in effect; a
// change is announced to the other replicas.
func (a *App) storeConfig(ctx context.Context, e projectcfg.Entry, cfg *config.Config) (*projectcfg.Entry, bool, error) {
	saved, changed, err := a.Configs.Save(ctx, e)
	if err != nil {
		return nil, false, err
	}
	a.useConfig(e.Project, cfg, saved)
	if changed && a.opts.Replica.On {
		if err := a.DB.Notify(ctx, DeployChannel, e.Project+"/"); err != nil {
			a.log.Warn("replicas: cannot announce a project's phoenix.yaml; the others see it at their next poll", "err", err)
		}
	}
	return saved, changed, nil
}

// useConfig puts cfg in effect as project's (from e; nil: not stored)
// and reconfigures the monitor and the channels. A stored revision older
// than the one in effect (a save that lost a race with another) is
// dropped.
func (a *App) useConfig(project string, cfg *config.Config, e *projectcfg.Entry) {
	if a.projects == nil { // the monitor is not open yet: it loads the stored one
		return
	}
	a.projects.mu.Lock()
	stale := e != nil && revisionOf(a.projects.entry[project]) > e.Revision
	if !stale {
		a.projects.cfg[project], a.projects.entry[project] = cfg, e
	}
	a.projects.mu.Unlock()
	if !stale {
		a.reconfigure()
	}
}

func revisionOf(e *projectcfg.Entry) int64 {
	if e == nil {
		return 0
	}
	return e.Revision
}

// loadProject reads project's phoenix.yaml (readConfig) into the
// projects' configurations; the caller reconfigures.
func (a *App) loadProject(ctx context.Context, project string) {
	e, err := a.Configs.Get(ctx, project)
	if err != nil {
		a.log.Warn("monitor: cannot read the project's phoenix.yaml; keeping what was loaded before", "project", project, "err", err)
		return
	}
	cfg, err := a.readConfig(ctx, project, e)
	if err != nil {
		a.projects.mu.Lock()
		a.projects.unread[project] = revisionOf(e)
		a.projects.mu.Unlock()
		a.log.Warn("monitor: cannot read the project's phoenix.yaml; keeping what was loaded before until it changes",
			"project", project, "revision", revisionOf(e), "err", err)
		return
	}
	if cfg == nil {
		return
	}
	a.projects.mu.Lock()
	defer a.projects.mu.Unlock()
	if cur, ok := a.projects.entry[project]; !ok || revisionOf(cur) <= revisionOf(e) {
		a.projects.cfg[project], a.projects.entry[project] = cfg, e
	}
}

// readConfig parses the stored e (the file, or its run's folder's); with
// none stored, the phoenix.yaml of the project's latest pipeline run, if
// any (nil without).
func (a *App) readConfig(ctx context.Context, project string, e *projectcfg.Entry) (*config.Config, error) {
	switch {
	case e != nil && len(e.YAML) > 0:
		return config.Parse(e.YAML, "phoenix.yaml of "+e.From())
	case e != nil:
		return config.Load(filepath.Join(e.Dir, "phoenix.yaml"))
	}
	runs, err := a.Pipeline.Runs(ctx, pipeline.RunFilter{Project: project, Limit: 1})
	if err != nil || len(runs) == 0 || runs[0].Dir == "" {
		return nil, err
	}
	return config.Load(filepath.Join(runs[0].Dir, "phoenix.yaml"))
}

// loadProjects loads the phoenix.yaml of every project with one stored
// or an active deployment, and reconfigures.
func (a *App) loadProjects(ctx context.Context) error {
	active, err := a.Deploy.Active(ctx)
	if err != nil {
		return err
	}
	revs, err := a.Configs.Revisions(ctx)
	if err != nil {
		return err
	}
	for _, r := range active {
		revs[r.Project] = 0 // the value is not used
	}
	for p := range revs {
		a.loadProject(ctx, p)
	}
	a.reconfigure()
	return nil
}

// syncConfigs loads the phoenix.yaml of each project whose stored one
// another replica changed, and reconfigures when one did.
func (a *App) syncConfigs(ctx context.Context) {
	revs, err := a.Configs.Revisions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: read the projects' phoenix.yaml revisions", "err", err)
		}
		return
	}
	changed := false
	for p, rev := range revs {
		a.projects.mu.Lock()
		have, unread := revisionOf(a.projects.entry[p]), a.projects.unread[p]
		a.projects.mu.Unlock()
		if rev != have && rev != unread { // a revision that did not parse is warned about once, not every poll
			a.loadProject(ctx, p)
			changed = true
		}
	}
	if changed {
		a.reconfigure()
	}
}
