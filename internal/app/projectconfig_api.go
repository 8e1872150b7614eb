package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// configRoutes are the API's endpoints of a project's phoenix.yaml
// (projectconfig.go). They go through the API's authorization and into
// its OpenAPI document like every route.
func (a *App) configRoutes() []api.Route {
	const tag = "deployments"
	p := "/api/v1/projects/{project}/config"
	return []api.Route{
		{Method: "GET", Path: p, Tag: tag, Perm: auth.Read,
			Summary:  "What the server uses of a project's phoenix.yaml (probes, alert rules, channels, health checks; names only) and where it came from",
			Response: projectcfg.Summary{}, Handler: a.getConfig},
		{Method: "PUT", Path: p, Tag: tag, Perm: auth.Deploy, Action: "project.config",
			Summary: "Hand the server a project's phoenix.yaml, as 'phoenix deploy' does: it replaces the stored one (a release's too) " +
				"and is in effect at once; a file with a secret value written in it is refused",
			Request: "phoenix.yaml (YAML)", Response: projectcfg.Summary{}, Handler: a.putConfig},
	}
}

func (a *App) getConfig(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	s, ok := a.configSummary(r.Context(), project, callerReads(r, project))
	if !ok {
		api.WriteError(w, r, usererr.New(usererr.NotFound, "the server has no phoenix.yaml of project %s", project).
			WithHint("'phoenix deploy' and 'phoenix release' hand it over"))
		return
	}
	api.WriteJSON(w, http.StatusOK, s)
}

// callerReads reports whether the caller of r may read an environment of
// project, as /api/v1/projects lists them.
func callerReads(r *http.Request, project string) func(env string) bool {
	pr := api.PrincipalFrom(r.Context())
	return func(env string) bool { return pr.Can(auth.Read, auth.Resource{Project: project, Environment: env}) }
}

// configSummary describes project's phoenix.yaml in effect, if any, with
// what readable allows (nil: all; projectcfg.Summarize).
func (a *App) configSummary(ctx context.Context, project string, readable func(env string) bool) (projectcfg.Summary, bool) {
	a.projects.mu.Lock()
	cfg, e, chanErr := a.projects.cfg[project], a.projects.entry[project], a.projects.chanErr[project]
	a.projects.mu.Unlock()
	if cfg == nil {
		return projectcfg.Summary{}, false
	}
	s := a.summarize(ctx, project, e, cfg, readable)
	if chanErr != nil {
		s.ChannelError = chanErr.Error()
	}
	return s, true
}

// summarize is projectcfg.Summarize, leaving out the release that stored
// the file (its version and run) when readable may not see that run: a
// run the caller may not see is "no run N" on every route, and its
// version may have gone only to production.
func (a *App) summarize(ctx context.Context, project string, e *projectcfg.Entry, cfg *config.Config, readable func(env string) bool) projectcfg.Summary {
	if readable != nil && e != nil && e.Kind == projectcfg.Release && !a.runReadable(ctx, e.Run, cfg, readable) {
		hidden := *e
		hidden.Release, hidden.Run = "", 0
		e = &hidden
	}
	return projectcfg.Summarize(project, e, cfg, readable)
}

// runReadable reports whether readable may see run id: VisibleWith when
// the run is there; else (pruned, or the store cannot say) when it may
// read every environment of cfg.
func (a *App) runReadable(ctx context.Context, id int64, cfg *config.Config, readable func(env string) bool) bool {
	if id != 0 && a.Pipeline != nil {
		if d, err := a.Pipeline.Get(ctx, id); err == nil {
			return d.VisibleWith(readable)
		}
	}
	for env := range cfg.Environments {
		if !readable(env) {
			return false
		}
	}
	return true
}

func (a *App) putConfig(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, config.MaxFileSize))
	if err != nil {
		api.WriteError(w, r, usererr.Wrap(usererr.Invalid, err, "request body: "+err.Error()))
		return
	}
	cfg, err := checkConfig(project, body)
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	envs, err := a.configNeeds(r.Context(), cfg)
	if err == nil {
		err = api.RequireConfig(r.Context(), project, envs)
	}
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	if err := a.Deploy.EnsureProject(r.Context(), project); err != nil {
		api.WriteError(w, r, err)
		return
	}
	e := projectcfg.Entry{Project: project, Kind: projectcfg.Deploy, Actor: api.PrincipalFrom(r.Context()).User, YAML: body}
	saved, changed, err := a.storeConfig(r.Context(), e, cfg)
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	readable := callerReads(r, project)
	s, _ := a.configSummary(r.Context(), project, readable)
	if s.Entry == nil || s.Revision < saved.Revision { // a newer one is in effect already: describe this one
		s = a.summarize(r.Context(), project, saved, cfg, readable)
	}
	s.Changed = changed
	api.WriteJSON(w, http.StatusOK, s)
}

// checkConfig parses a phoenix.yaml handed over for project with the
// same loader as 'phoenix validate': it must be valid, be project's, and
// hold no secret value written in it (the server stores it).
func checkConfig(project string, body []byte) (*config.Config, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, usererr.New(usererr.Invalid, "request body: empty").WithHint("send the project's phoenix.yaml")
	}
	cfg, err := config.Parse(body, "phoenix.yaml")
	if err != nil {
		return nil, usererr.Wrap(usererr.Invalid, err, err.Error()).WithHint("check it with phoenix validate")
	}
	if cfg.Project.Name != project {
		return nil, usererr.New(usererr.Invalid, "phoenix.yaml: project.name is %q, but it was handed over for project %q", cfg.Project.Name, project).
			WithHint("deploy from the project's folder, or give --project the name in phoenix.yaml")
	}
	if fields := cfg.LiteralSecrets(); len(fields) > 0 {
		return nil, usererr.New(usererr.Invalid, "%s: a secret value is written in the file, and the server stores phoenix.yaml (it keeps no secret)",
			strings.Join(placed(cfg, fields), ", ")).
			WithHint("store each with 'phoenix secret set NAME' and write secret:NAME in its place")
	}
	return cfg, nil
}

// placed puts each field after its place in the file, as the config
// loader's problems read: "phoenix.yaml:9:14: notifications.channels.hook.secret".
func placed(cfg *config.Config, fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		at := cfg.Where(f)
		if at == "" {
			at = "phoenix.yaml"
		}
		out[i] = at + ": " + f
	}
	return out
}
