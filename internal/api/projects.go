package api

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// projectsRoute lists the projects: what a dashboard or `phoenix projects`
// shows, declared environments included, deployed or not.
func (a *API) projectsRoute() Route {
	return Route{Method: "GET", Path: "/api/v1/projects", Tag: "deployments", Perm: auth.Read, Query: pageParams,
		Summary:  "Projects the caller may read, by name, with the environments it may read (kind, domains, active deployment)",
		Response: Page[deploy.Project]{}, Handler: a.listProjects}
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	all, err := a.opts.Deploy.Projects(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, paginate(readableProjects(PrincipalFrom(r.Context()), all), pg,
		func(p deploy.Project) string { return p.Name }, func(p deploy.Project) bool { return p.Name > pg.cursor }))
}

// readableProjects keeps the projects pr may read, each with only the
// environments pr may read: a grant on one environment shows its project
// with that environment alone.
func readableProjects(pr *auth.Principal, all []deploy.Project) []deploy.Project {
	out := []deploy.Project{}
	for _, p := range all {
		if !pr.Can(auth.Read, auth.Resource{Project: p.Name}) {
			continue
		}
		envs := []deploy.ProjectEnv{}
		for _, e := range p.Environments {
			if pr.Can(auth.Read, auth.Resource{Project: p.Name, Environment: e.Name}) {
				envs = append(envs, e)
			}
		}
		p.Environments = envs
		out = append(out, p)
	}
	return out
}
