package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/report"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func (a *API) reportRoutes() []Route {
	return []Route{{Method: "GET", Path: "/api/v1/report", Tag: "report", Perm: auth.Read, Resource: reportResource,
		Summary: "Compliance and performance report over a window (access review needs users.manage, audit needs audit.read)",
		Query: []Param{
			textParam("from", "start: a date (2026-11-01), an RFC 3339 time or a duration back from now (30d); default 30 days before to"),
			textParam("to", "end: a date (the end of that day), an RFC 3339 time or a duration back from now; default now"),
			textParam("project", "one project; default every project the caller may read"),
			{Name: "sections", Description: "comma-separated: performance, delivery, incidents, security, access, audit; default all",
				Repeat: true},
		},
		Response: report.Report{}, Handler: a.report}}
}

// reportResource checks read on the project asked for, or on some project.
func reportResource(r *http.Request) (auth.Resource, error) {
	return auth.Resource{Project: r.URL.Query().Get("project")}, nil
}

func (a *API) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := report.ParseWindow(q.Get("from"), q.Get("to"), time.Now(), "from", "to")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if err := a.knownProject(r.Context(), q.Get("project")); err != nil {
		WriteError(w, r, err)
		return
	}
	pr := PrincipalFrom(r.Context())
	rep, err := report.Build(r.Context(), a.reportSources(), report.Options{From: from, To: to, Project: q.Get("project"),
		Sections: q["sections"],
		CanRead: func(project, env string) bool {
			return pr.Can(auth.Read, auth.Resource{Project: project, Environment: env})
		},
		// The access review lists every user and token: users.manage only.
		AccessReview: pr.Can(auth.UsersAdmin, auth.Resource{}),
		AuditRead:    pr.Can(auth.AuditRead, auth.Resource{})})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, rep)
}

// reportSources are the domains the API holds; a missing one leaves its
// sections out (never a typed nil in an interface).
func (a *API) reportSources() report.Sources {
	var s report.Sources
	if a.opts.Monitor != nil {
		s.Metrics, s.Alerts = a.opts.Monitor.Store(), a.opts.Monitor
	}
	if a.opts.Deploy != nil {
		s.Deployments = a.opts.Deploy
	}
	if a.opts.Pipeline != nil {
		s.Runs = a.opts.Pipeline
	}
	if a.opts.Auth != nil {
		s.Users = a.opts.Auth
	}
	if a.opts.Audit != nil {
		s.Audit = a.opts.Audit
	}
	return s
}

// knownProject refuses a project that was never deployed nor released: its
// report would be empty, like a quiet month's. The caller's read on it was
// checked first, so a name only says whether it exists to those who may
// read it.
func (a *API) knownProject(ctx context.Context, name string) error {
	if name == "" || a.opts.Deploy == nil {
		return nil
	}
	all, err := a.opts.Deploy.Projects(ctx)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(all, func(p deploy.Project) bool { return p.Name == name }) {
		return nil
	}
	if a.opts.Pipeline != nil {
		runs, err := a.opts.Pipeline.Runs(ctx, pipeline.RunFilter{Project: name, Limit: 1})
		if err != nil || len(runs) > 0 {
			return err
		}
	}
	return usererr.New(usererr.NotFound, "no project %q", name).WithHint("list them with 'phoenix projects'")
}
