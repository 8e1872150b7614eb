package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// envInfo is an environment as /api/v1/projects/{p}/environments lists it.
type envInfo struct {
	deploy.Environment
	URL string `json:"url"`
}

type envData struct {
	Project, Name string
	Env           *envInfo
	Report        *api.EnvReport
	Deployments   []deploy.Deployment
	NextURL       string
	// Previous is the deployment a plain rollback goes to (the newest
	// before the active one that passed verification, else that did not
	// fail it), when this page lists it; HasOlder tells whether there may be one at all.
	Previous int64
	HasOlder bool
	// Edge is the project's edge policy (phoenix.yaml's edge: section),
	// nil when it has none.
	Edge *config.Edge
}

// pageQuery are the paging parameters of a list page.
var pageQuery = []param{{name: "cursor", max: 20, digits: true}, {name: "limit", max: 4, digits: true}}

func envPath(project, env string) string {
	return "/api/v1/projects/" + url.PathEscape(project) + "/environments/" + url.PathEscape(env)
}

func (d *Dashboard) environment(r *http.Request, s session, v *view) (string, error) {
	p, e := r.PathValue("project"), r.PathValue("env")
	v.Title, v.Nav = e+" · "+p, "overview"
	q, err := parseQuery(r.URL.Query(), pageQuery)
	if err != nil {
		return "", err
	}
	data := &envData{Project: p, Name: e}
	var deps api.Page[deploy.Deployment]
	if _, err := d.call(r, s, http.MethodGet, envPath(p, e)+"/deployments?"+q.Encode(), nil, &deps); err != nil {
		return "", err
	}
	data.Deployments = deps.Items
	if deps.NextCursor != "" {
		q.Set("cursor", deps.NextCursor)
		data.NextURL = "/ui/envs/" + url.PathEscape(p) + "/" + url.PathEscape(e) + "?" + q.Encode()
	}
	var envs api.Page[envInfo]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/projects/"+url.PathEscape(p)+"/environments", nil, &envs); err != nil {
		return "", err
	}
	for i := range envs.Items {
		if envs.Items[i].Name == e {
			data.Env = &envs.Items[i]
		}
	}
	if data.Env == nil {
		return "", &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "project " + p + " has no environment " + e}
	}
	var olderHere bool
	data.Previous, olderHere = previousOf(data.Deployments, data.Env.ActiveID)
	data.HasOlder = olderHere || (data.NextURL != "" && data.Env.ActiveID != 0)
	var edge config.Edge
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/projects/"+url.PathEscape(p)+"/edge", nil, &edge); err != nil {
		return "", err
	}
	if !edge.IsZero() {
		data.Edge = &edge
	}
	var reports []api.EnvReport
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/status", nil, &reports); err != nil {
		return "", err
	}
	for i := range reports {
		if reports[i].Project == p && reports[i].Name == e {
			data.Report = &reports[i]
		}
	}
	v.Data = data
	return "environment", nil
}

// previousOf finds, among a page of deployments, the one a plain rollback
// goes to (deploy's rule): the newest before the active one that passed
// verification, else the newest before it that did not fail. Only a page
// that lists the active one can tell (on a later page, the one it goes to
// may be on an earlier page; a passed one on a later page is missed
// unless this page has none that did not fail): elsewhere it is 0, and
// olderHere says whether the page has any candidate at all.
func previousOf(deps []deploy.Deployment, active int64) (previous int64, olderHere bool) {
	var passed, ok int64
	activeHere := false
	for _, dep := range deps {
		activeHere = activeHere || dep.ID == active
		if dep.ID >= active || dep.Failure != "" {
			continue
		}
		ok = max(ok, dep.ID)
		if dep.Verification == deploy.VerifyPassed {
			passed = max(passed, dep.ID)
		}
	}
	best := ok
	if passed != 0 {
		best = passed
	}
	if activeHere {
		return best, best != 0
	}
	return 0, best != 0
}

// rollback re-points the environment: at the deployment in the form's
// "to", or (without it) at the one before the active one.
func (d *Dashboard) rollback(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	p, e := r.PathValue("project"), r.PathValue("env")
	var req api.RollbackRequest
	if to := r.PostForm.Get("to"); to != "" {
		id, err := strconv.ParseInt(to, 10, 64)
		if err != nil || id < 1 {
			return "", "", &apiError{Status: http.StatusBadRequest, Code: usererr.Invalid.Code(),
				Message: "to " + strconv.Quote(to) + ": want a deployment id"}
		}
		req.To = id
	}
	var dep api.DeploymentResponse
	if _, err := d.call(r, s, http.MethodPost, envPath(p, e)+"/rollback", req, &dep); err != nil {
		return "", "", err
	}
	msg := "Activated deployment " + strconv.FormatInt(dep.ID, 10)
	if dep.Release != "" {
		msg += " (" + dep.Release + ")"
	}
	return "/ui/envs/" + url.PathEscape(p) + "/" + url.PathEscape(e), msg + " on " + e + ".", nil
}
