package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// ReleaseRequest starts a release of the project in Dir, a folder on the
// server's disk holding phoenix.yaml (for a CLI beside the server, the
// project folder itself). A Dir that holds no phoenix.yaml of a project
// the caller may read gets one answer, whatever is there.
type ReleaseRequest struct {
	Dir          string   `json:"dir"`
	Version      string   `json:"version"`
	Environments []string `json:"environments,omitempty"` // default: the release environments of phoenix.yaml
	// Commit is the commit to build when Dir is in a git repository (a
	// clean checkout of it, in the run's own folder; default HEAD); with
	// InPlace, or outside git, only the one recorded.
	Commit  string `json:"commit,omitempty"`
	InPlace bool   `json:"in_place,omitempty"` // build Dir as it is, uncommitted changes included
}

// DecisionRequest approves or rejects a run's approval gate.
type DecisionRequest struct {
	Environment string `json:"environment,omitempty"` // default: the gate the run waits at
	Comment     string `json:"comment,omitempty"`     // the reason, required to reject
}

const runParam = "/api/v1/runs/{id}"

// noRun is the 404 of a run's routes.
const noRun = "no such run, or the caller may not see it (read on every environment it acts on): the same answer"

func (a *API) pipelineRoutes() []Route {
	const tag = "pipeline"
	return []Route{
		{Method: "POST", Path: "/api/v1/releases", Tag: tag, Perm: auth.Deploy, Action: "pipeline.release",
			Summary: "Release a version through the project's pipeline (needs deploy on every environment it goes to; dir: the project folder on the server, one answer for every path that holds no phoenix.yaml of a project the caller may read)",
			Request: ReleaseRequest{}, Response: pipeline.Run{}, Status: http.StatusCreated, Handler: a.release},
		{Method: "GET", Path: "/api/v1/runs", Tag: tag, Perm: auth.Read,
			Query: []Param{textParam("project", "only this project's runs"),
				{Name: "status", Description: "only runs in this status", Values: pipeline.RunStatuses},
				numberParam("limit", "at most this many (default 50)"), textParam("cursor", "the next_cursor of the page before")},
			Summary: "Pipeline runs, newest first: those the caller may see (read on every environment a run acts on)", Response: Page[pipeline.Run]{},
			Handler: a.listRuns},
		{Method: "GET", Path: runParam, Tag: tag, Perm: auth.Read, Resource: a.runResource, Missing: noRun,
			Summary: "A run with its steps and approvals", Response: pipeline.RunDetail{}, Handler: a.getRun},
		{Method: "GET", Path: runParam + "/logs", Tag: tag, Perm: auth.Read, Resource: a.runResource, Missing: noRun,
			Query: []Param{textParam("step", "one step's raw log (default: every step, lines prefixed 'step | ')"),
				{Name: "follow", Description: "true (or 1): stream until the run finishes", Values: []string{"true", "false", "1", "0"}}},
			Summary: "A run's logs as text/plain, streamed with follow (secrets masked)", Response: "text/plain", Handler: a.runLogs},
		{Method: "POST", Path: runParam + "/cancel", Tag: tag, Perm: auth.Deploy, Resource: a.runResource, Missing: noRun, Action: "pipeline.run.cancel",
			Summary: "Cancel a queued or running run", Response: pipeline.RunDetail{}, Handler: a.cancelRun},
		{Method: "POST", Path: runParam + "/retry", Tag: tag, Perm: auth.Deploy, Resource: a.runResource, Missing: noRun, Action: "pipeline.run.retry",
			Summary: "Run a finished run's plan again", Response: pipeline.Run{}, Status: http.StatusCreated, Handler: a.retryRun},
		{Method: "POST", Path: runParam + "/approve", Tag: tag, Perm: auth.Approve, Resource: a.runResource, Missing: noRun, Action: "pipeline.approve",
			Summary: "Approve a run's deployment to a protected environment (not by its releaser)", Request: DecisionRequest{},
			Status: http.StatusNoContent, Handler: a.decide(false)},
		{Method: "POST", Path: runParam + "/reject", Tag: tag, Perm: auth.Approve, Resource: a.runResource, Missing: noRun, Action: "pipeline.reject",
			Summary: "Reject a run at its approval gate (comment: the reason, required)", Request: DecisionRequest{},
			Status: http.StatusNoContent, Handler: a.decide(true)},
		// The sender's query string is its own (a URL set in GitHub, say):
		// the signature is what counts.
		{Method: "POST", Path: "/hooks/{project}/{workflow}", Tag: tag, Public: true, AnyQuery: true,
			Summary: "Webhook trigger of a workflow, authenticated by its HMAC signature or bearer secret (not an API token)",
			Request: "the sender's JSON payload (GitHub push, release or a generic one)", Response: map[string]int64{},
			Status: http.StatusAccepted, Handler: a.opts.Pipeline.Webhooks().ServeHTTP},
	}
}

func runID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, usererr.New(usererr.Invalid, "run id %q: want a number", r.PathValue("id"))
	}
	return id, nil
}

// runResource is the project of the run in the path, which the caller
// must be able to see: a run they may not see is answered as one that
// does not exist, on every route of a run (the denial is recorded). A
// caller who may read nothing at all is refused before any run is looked
// at, the same answer for every id.
func (a *API) runResource(r *http.Request) (auth.Resource, error) {
	id, err := runID(r)
	if err != nil {
		return auth.Resource{}, err
	}
	pr := PrincipalFrom(r.Context())
	if err := auth.Require(pr, auth.Read, auth.Resource{}); err != nil {
		return auth.Resource{}, err
	}
	d, err := a.opts.Pipeline.Get(r.Context(), id)
	if err != nil {
		return auth.Resource{}, err
	}
	if err := seeRun(pr, &d.Run); err != nil {
		return auth.Resource{}, &hiddenError{denied: fmt.Errorf("run %d: %w", id, err), shown: pipeline.NoRun(id)}
	}
	return auth.Resource{Project: d.Project}, nil
}

// seeRun returns nil when pr may see run (its steps, logs and report
// too), else the refusal naming what pr may not read: read on every
// environment the run acts on, or on its project when it acts on none.
func seeRun(pr *auth.Principal, run *pipeline.Run) error {
	var err error
	run.VisibleWith(func(env string) bool { // stops at the first refusal
		err = auth.Require(pr, auth.Read, auth.Resource{Project: run.Project, Environment: env})
		return err == nil
	})
	return err
}

// requireConfig checks deploy on the environments Options.ConfigNeeds
// names for cfg, the phoenix.yaml a release hands the server.
func (a *API) requireConfig(w http.ResponseWriter, r *http.Request, cfg *config.Config) bool {
	if a.opts.ConfigNeeds == nil {
		return true
	}
	envs, err := a.opts.ConfigNeeds(r.Context(), cfg)
	if err != nil {
		WriteError(w, r, err)
		return false
	}
	if err := RequireConfig(r.Context(), cfg.Project.Name, envs); err != nil {
		a.deny(w, r, routeOf(r), err)
		return false
	}
	return true
}

// RequireConfig checks that the caller may hand over a phoenix.yaml of
// project that changes its notification channels: deploy on each of envs
// (every environment of the project). The channels read secrets as
// production, so a credential limited to staging must not change them.
func RequireConfig(ctx context.Context, project string, envs []string) error {
	for _, env := range envs {
		if err := auth.Require(PrincipalFrom(ctx), auth.Deploy, auth.Resource{Project: project, Environment: env}); err != nil {
			return usererr.Wrap(usererr.KindOf(err), err, fmt.Sprintf(
				"phoenix.yaml changes notifications.channels of project %s, which read secrets as production: that needs deploy on every environment of the project, and you lack it on %s",
				project, env)).WithHint("ask someone with deploy on every environment to release or deploy it, or keep the channels as they are")
		}
	}
	return nil
}

// requireEnvs checks p on every environment of a run's project the run
// goes to.
func (a *API) requireEnvs(w http.ResponseWriter, r *http.Request, p auth.Permission, project string, envs []string) bool {
	for _, env := range envs {
		if !a.require(w, r, p, auth.Resource{Project: project, Environment: env}) {
			return false
		}
	}
	return true
}

func (a *API) release(w http.ResponseWriter, r *http.Request) {
	var req ReleaseRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	cfg, ok := a.releaseConfig(w, r, req.Dir)
	if !ok {
		return
	}
	envs := req.Environments
	if len(envs) == 0 {
		envs = cfg.ReleaseEnvironments()
	}
	if !a.requireEnvs(w, r, auth.Deploy, cfg.Project.Name, envs) || !a.requireConfig(w, r, cfg) {
		return
	}
	run, err := a.opts.Pipeline.Release(r.Context(), pipeline.ReleaseRequest{Dir: req.Dir, Version: req.Version,
		Environments: req.Environments, Commit: req.Commit, InPlace: req.InPlace, Actor: PrincipalFrom(r.Context()).User, Config: cfg})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, run)
}

// releaseConfig reads the phoenix.yaml in dir, the project folder a
// release names on the server's disk. What is wrong with the folder or
// the file is said only of a project the caller may read. For any other
// path the answer is one and the same, whether nothing is there, it is no
// folder, the server may not read it, or it holds another project's
// phoenix.yaml, so that the endpoint does not tell which paths exist on
// the server. The server log has the reason; a refusal for the project is
// audited.
func (a *API) releaseConfig(w http.ResponseWriter, r *http.Request, dir string) (*config.Config, bool) {
	if !filepath.IsAbs(dir) {
		WriteError(w, r, usererr.New(usererr.Invalid, "dir %q: want an absolute path on the server", dir).
			WithHint("phoenix release sends the project folder's absolute path"))
		return nil, false
	}
	unusable := usererr.New(usererr.Invalid, "dir %q: the server finds no phoenix.yaml there of a project you may release", dir).
		WithHint("dir is the project folder's absolute path on the server's disk (phoenix release sends its --dir, " +
			"the folder it runs in by default), holding a phoenix.yaml the server can read, of a project you may read " +
			"and deploy: check the path and the server's access to it, and run 'phoenix validate' in the folder")
	path := filepath.Join(dir, "phoenix.yaml")
	data, err := config.ReadFile(path)
	project := config.ProjectName(data)
	if err != nil || project == "" {
		if err == nil {
			err = errors.New("no project.name in its phoenix.yaml (or no YAML, or too large)")
		}
		loggerFrom(r.Context()).Info("release: refused the folder", "dir", dir, "err", err)
		WriteError(w, r, unusable)
		return nil, false
	}
	if err := auth.Require(PrincipalFrom(r.Context()), auth.Read, auth.Resource{Project: project}); err != nil {
		a.deny(w, r, routeOf(r), &hiddenError{
			denied: fmt.Errorf("release from %s: %w", dir, err), shown: unusable})
		return nil, false
	}
	cfg, err := config.Parse(data, path)
	if err != nil {
		WriteError(w, r, usererr.Wrap(usererr.Invalid, err, err.Error()).WithHint("check it with phoenix validate"))
		return nil, false
	}
	return cfg, true
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// The route's Query checked the status is one of pipeline.RunStatuses.
	f := pipeline.RunFilter{Project: q.Get("project"), Status: q.Get("status")}
	limit, err := runsPage(q, &f)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	pr := PrincipalFrom(r.Context())
	f.Keep = func(run *pipeline.Run) bool { return seeRun(pr, run) == nil }
	runs, err := a.opts.Pipeline.Runs(r.Context(), f)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	page := Page[pipeline.Run]{Items: append([]pipeline.Run{}, runs[:min(len(runs), limit)]...)}
	if len(runs) > limit { // the one more asked for: there is a next page
		page.NextCursor = strconv.FormatInt(runs[limit-1].ID, 10)
	}
	if len(runs) == 0 && f.Project != "" && pr.Can(auth.Read, auth.Resource{Project: f.Project}) {
		if err := a.knownProject(r.Context(), f.Project); err != nil { // a typo is not an empty history
			WriteError(w, r, err)
			return
		}
	}
	WriteJSON(w, http.StatusOK, page)
}

// runsPage reads a runs page's limit (default 50) and cursor (the id of
// the last run of the page before) into f, which asks for one run more
// than the page holds: whether there is a next page.
func runsPage(q url.Values, f *pipeline.RunFilter) (limit int, err error) {
	if limit, err = pageLimit(q, 50); err != nil {
		return 0, err
	}
	if c := q.Get("cursor"); c != "" {
		if f.Before, err = strconv.ParseInt(c, 10, 64); err != nil || f.Before < 1 {
			return 0, badCursor(c)
		}
	}
	f.Limit = limit + 1
	return limit, nil
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	id, _ := runID(r) // checked by runResource
	d, err := a.opts.Pipeline.Get(r.Context(), id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, d)
}

// flushWriter flushes after every write, so followed logs arrive as the
// steps write them. A writer that cannot flush (the dashboard's in-process
// call) gets the same bytes, only not pushed early: http.ErrNotSupported
// is no write error.
type flushWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	wrote *bool // set at the first write: an error after it cannot be answered
}

func (f flushWriter) Write(p []byte) (int, error) {
	*f.wrote = true
	n, err := f.w.Write(p)
	if err == nil {
		if ferr := f.rc.Flush(); !errors.Is(ferr, http.ErrNotSupported) {
			err = ferr
		}
	}
	return n, err
}

func (a *API) runLogs(w http.ResponseWriter, r *http.Request) {
	id, _ := runID(r)
	q := r.URL.Query()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	o := pipeline.LogOptions{Step: q.Get("step"), Follow: q.Get("follow") == "true" || q.Get("follow") == "1"}
	var wrote bool
	fw := flushWriter{w: w, rc: http.NewResponseController(w), wrote: &wrote}
	err := a.opts.Pipeline.Logs(r.Context(), id, o, fw)
	switch {
	case err == nil || r.Context().Err() != nil:
	case !wrote: // refused before any log line (a step the run does not have)
		WriteError(w, r, err)
	default:
		loggerFrom(r.Context()).Warn("run logs", "run", id, "err", err)
	}
}

// runFor loads the run of the path and checks p on each environment it
// acts on.
func (a *API) runFor(w http.ResponseWriter, r *http.Request, p auth.Permission) (*pipeline.RunDetail, bool) {
	id, _ := runID(r)
	d, err := a.opts.Pipeline.Get(r.Context(), id)
	if err != nil {
		WriteError(w, r, err)
		return nil, false
	}
	return d, a.requireEnvs(w, r, p, d.Project, d.ActsOn())
}

func (a *API) cancelRun(w http.ResponseWriter, r *http.Request) {
	d, ok := a.runFor(w, r, auth.Deploy)
	if !ok {
		return
	}
	if err := a.opts.Pipeline.Cancel(r.Context(), d.ID, PrincipalFrom(r.Context()).User); err != nil {
		WriteError(w, r, err)
		return
	}
	a.getRun(w, r)
}

func (a *API) retryRun(w http.ResponseWriter, r *http.Request) {
	d, ok := a.runFor(w, r, auth.Deploy)
	if !ok {
		return
	}
	run, err := a.opts.Pipeline.Retry(r.Context(), d.ID, PrincipalFrom(r.Context()).User)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, run)
}

func (a *API) decide(reject bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req DecisionRequest
		if err := decode(r, &req); err != nil {
			WriteError(w, r, err)
			return
		}
		id, _ := runID(r)
		d, err := a.opts.Pipeline.Get(r.Context(), id)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		if req.Environment != "" && !a.require(w, r, auth.Approve, auth.Resource{Project: d.Project, Environment: req.Environment}) {
			return
		}
		actor := PrincipalFrom(r.Context()).User
		if reject {
			err = a.opts.Pipeline.Reject(r.Context(), id, req.Environment, actor, req.Comment)
		} else {
			err = a.opts.Pipeline.Approve(r.Context(), id, req.Environment, actor, req.Comment)
		}
		if err != nil {
			WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
