package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The monitor names environments "<env>.<project>" (production.shop), as
// the edge does; these endpoints show only what the caller may read.

// SilenceRequest holds back an alert's notifications for a while.
type SilenceRequest struct {
	Project     string    `json:"project,omitempty"`     // with environment; both empty: everywhere (needs env.write)
	Environment string    `json:"environment,omitempty"` // e.g. production
	Rule        string    `json:"rule,omitempty"`        // rule name or glob; empty: every rule
	For         string    `json:"for,omitempty"`         // e.g. 2h, 1d (default 1h)
	Starts      time.Time `json:"starts,omitzero"`       // default now
	Comment     string    `json:"comment,omitempty"`
	Maintenance bool      `json:"maintenance,omitempty"` // the status page shows maintenance
}

func (a *API) monitorRoutes() []Route {
	const tag = "monitor"
	return append([]Route{
		{Method: "GET", Path: "/api/v1/status", Tag: tag, Perm: auth.Read,
			Summary: "Active release, health, open alerts and SLA of every environment the caller may read", Response: []EnvReport{},
			Handler: a.monitorStatus},
		{Method: "GET", Path: "/api/v1/alerts", Tag: tag, Perm: auth.Read, Query: []Param{boolParam("all", "true: resolved and inactive ones too")},
			Summary: "Pending and firing alerts", Response: []monitor.Alert{}, Handler: a.listAlerts},
		{Method: "GET", Path: "/api/v1/alerts/history", Tag: tag, Perm: auth.Read, Query: []Param{numberParam("limit", "at most this many (default 100)")},
			Summary: "Alert state changes, newest first: the newest limit of those the caller may read", Response: []monitor.AlertEvent{}, Handler: a.alertHistory},
		{Method: "GET", Path: "/api/v1/silences", Tag: tag, Perm: auth.Read, Query: []Param{boolParam("all", "true: expired ones too")},
			Summary: "Silences and maintenance windows", Response: []monitor.Silence{}, Handler: a.listSilences},
		{Method: "POST", Path: "/api/v1/silences", Tag: tag, Perm: auth.Deploy, Action: "monitor.silence",
			Summary: "Silence alerts (or declare maintenance) of an environment (deploy there) or everywhere (env.write)",
			Request: SilenceRequest{}, Response: monitor.Silence{}, Status: http.StatusCreated, Handler: a.addSilence},
		{Method: "DELETE", Path: "/api/v1/silences/{id}", Tag: tag, Perm: auth.Deploy, Action: "monitor.silence.expire",
			Summary: "End a silence now", Status: http.StatusNoContent, Handler: a.expireSilence},
		// Links to the page and badges in READMEs carry what their sites
		// add (cache busters, a badge service's style).
		{Method: "GET", Path: "/status/{path...}", Tag: tag, Public: true, AnyQuery: true,
			Query:    []Param{{Name: "period", Description: "a badge's window", Values: []string{"24h", "7d", "30d"}}},
			Summary:  "The public status page (/status/), its data (/status/status.json) and SVG badges (/status/badge/ENV[/PROBE].svg)",
			Response: "text/html, application/json or image/svg+xml",
			Handler:  http.StripPrefix("/status", a.opts.Monitor.PublicHandler(monitor.PageOptions{Title: "Status"})).ServeHTTP},
	}, a.ackRoutes()...)
}

// envResource splits the monitor's "<env>.<project>" name; a name without
// a project (host metrics) is the server's, except a project's
// notification channels' (notify:shop/teams), which are the project's.
func envResource(name string) auth.Resource {
	if p := monitor.UndeliverableProject(name); p != "" { // a project's channels: the server's alert, the project's business
		return auth.Resource{Project: p}
	}
	env, project, ok := strings.Cut(name, ".")
	if !ok || monitor.ServerInstance(name) { // host, certificate and replica alerts
		return auth.Resource{}
	}
	return auth.Resource{Project: project, Environment: env}
}

// Readable reports whether the caller may read the monitor's environment
// ("<env>.<project>"; a server instance, such as the host, is everyone's
// with read): what the monitor's routes, and the app's replicas, show.
func Readable(r *http.Request, env string) bool {
	return PrincipalFrom(r.Context()).Can(auth.Read, envResource(env))
}

// EnvReport is one environment's deployment and monitor status.
type EnvReport struct {
	monitor.EnvStatus
	Project    string    `json:"project,omitempty"`
	Name       string    `json:"name,omitempty"` // the environment's own name; Environment is the monitor's
	Release    string    `json:"release,omitempty"`
	Deployment int64     `json:"deployment,omitempty"`
	DeployedAt time.Time `json:"deployed_at,omitzero"` // when the active deployment was first deployed
	// LiveSince is when the active deployment went live: its last
	// activation, a rollback to it included (deploy.Deployment.LiveSince).
	LiveSince *time.Time `json:"live_since,omitempty"`
	// Verification is where the verification of the active deployment
	// stands (deploy.Deployment.Verification): "pending" while the
	// server's runs, or since a stop or a crash cut it short (the next
	// start verifies it again), "run" while the pipeline run that made it
	// has not passed its health checks; VerificationAt is since when.
	Verification   string     `json:"verification,omitempty"`
	VerificationAt *time.Time `json:"verification_at,omitempty"`
	// Notifications is what keeps the project's messages from its
	// channels (every environment of the project shows the same); absent
	// when they all work.
	Notifications *NotifyHealth `json:"notifications,omitempty"`
}

// NotifyHealth is what keeps a project's notifications from reaching
// people. It names channels and reasons, never a channel's URL or key.
type NotifyHealth struct {
	// Unloaded are the channels of the project's phoenix.yaml that did
	// not load (one that cannot load keeps them all from loading: a
	// secret missing or the vault sealed), and Error why.
	Unloaded []string `json:"unloaded,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Failing are the channels whose last delivery failed for good
	// (refused, or retried for 24 hours), with nothing delivered since;
	// Channel is the name in phoenix.yaml.
	Failing []notify.Failure `json:"failing,omitempty"`
}

func (a *API) monitorStatus(w http.ResponseWriter, r *http.Request) {
	all, err := a.opts.Monitor.Status(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	reports := map[string]*EnvReport{}
	var order []string
	add := func(env string) *EnvReport {
		if reports[env] == nil {
			res := envResource(env)
			reports[env] = &EnvReport{EnvStatus: monitor.EnvStatus{Environment: env, Health: monitor.HealthUnknown,
				Endpoints: []monitor.EndpointStatus{}, Alerts: []monitor.Alert{}}, Project: res.Project, Name: res.Environment}
			order = append(order, env)
		}
		return reports[env]
	}
	if a.opts.Deploy != nil {
		active, err := a.opts.Deploy.Active(r.Context())
		if err != nil {
			WriteError(w, r, err)
			return
		}
		for _, rel := range active {
			e := add(rel.Environment + "." + rel.Project)
			e.Release, e.Deployment, e.DeployedAt = rel.Deployment.Release, rel.Deployment.ID, rel.Deployment.CreatedAt
			e.Verification, e.VerificationAt = rel.Deployment.Verification, rel.Deployment.VerificationAt
			e.LiveSince = rel.Deployment.LiveSince
		}
	}
	for _, s := range all {
		e := add(s.Environment)
		e.EnvStatus = s
	}
	var health map[string]NotifyHealth
	if a.opts.Notifications != nil {
		if health, err = a.opts.Notifications(r.Context()); err != nil { // the rest of the status still matters
			a.opts.Logger.Error("status: notification channels' health", "err", err)
		}
	}
	out := []EnvReport{}
	told := map[string]bool{}
	for _, env := range order {
		if Readable(r, env) {
			e := *reports[env]
			if h, ok := health[e.Project]; ok && e.Project != "" {
				e.Notifications, told[e.Project] = &h, true
			}
			out = append(out, e)
		}
	}
	// A project none of whose environments is listed (nothing deployed
	// or monitored yet) still has channels that fail: it gets an entry of
	// its own, with no environment, for whoever may read the project.
	for _, project := range slices.Sorted(maps.Keys(health)) {
		if h := health[project]; !told[project] && project != "" && PrincipalFrom(r.Context()).Can(auth.Read, auth.Resource{Project: project}) {
			out = append(out, EnvReport{EnvStatus: monitor.EnvStatus{Health: monitor.HealthUnknown, Endpoints: []monitor.EndpointStatus{},
				Alerts: []monitor.Alert{}}, Project: project, Notifications: &h})
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

// ProjectOnly reports whether r is a project's entry of its own rather
// than an environment's: a project with nothing deployed or monitored
// whose notification channels fail.
func (r EnvReport) ProjectOnly() bool { return r.Project != "" && r.Environment == "" }

func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) {
	all, err := a.opts.Monitor.Alerts(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := []monitor.Alert{}
	for _, al := range all {
		if Readable(r, al.Environment) {
			out = append(out, al)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) alertHistory(w http.ResponseWriter, r *http.Request) {
	limit, err := pageLimit(r.URL.Query(), 100)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out, err := a.opts.Monitor.HistoryOf(r.Context(), limit, func(e monitor.AlertEvent) bool { return Readable(r, e.Environment) })
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) listSilences(w http.ResponseWriter, r *http.Request) {
	all, err := a.opts.Monitor.Silences(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := []monitor.Silence{}
	for _, s := range all {
		if s.Environment == "" || Readable(r, s.Environment) {
			out = append(out, s)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

// requireSilence checks who may silence env (a monitor name, "" for all).
func (a *API) requireSilence(w http.ResponseWriter, r *http.Request, env string) bool {
	if monitor.ServerInstance(env) { // everywhere, the host, a certificate, a replica
		return a.require(w, r, auth.EnvWrite, auth.Resource{})
	}
	return a.require(w, r, auth.Deploy, envResource(env))
}

func (a *API) addSilence(w http.ResponseWriter, r *http.Request) {
	var req SilenceRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if (req.Project == "") != (req.Environment == "") {
		WriteError(w, r, usererr.New(usererr.Invalid, "give both project and environment, or neither (every environment)"))
		return
	}
	d := time.Hour
	if req.For != "" {
		var err error
		if d, err = ParseTTL(req.For); err != nil {
			WriteError(w, r, usererr.New(usererr.Invalid, "for %q: want a duration such as 30m, 2h or 1d", req.For))
			return
		}
	}
	env := ""
	if req.Environment != "" {
		env = req.Environment + "." + req.Project
	}
	if !a.requireSilence(w, r, env) {
		return
	}
	if err := a.silencedEnvExists(r.Context(), req.Project, req.Environment); err != nil {
		WriteError(w, r, err)
		return
	}
	s := monitor.Silence{Kind: monitor.KindSilence, Rule: req.Rule, Environment: env, Starts: req.Starts, Comment: req.Comment,
		CreatedBy: PrincipalFrom(r.Context()).User}
	if req.Maintenance {
		s.Kind = monitor.KindMaintenance
	}
	if s.Starts.IsZero() {
		s.Starts = time.Now().UTC()
	}
	s.Ends = s.Starts.Add(d)
	out, err := a.opts.Monitor.AddSilence(r.Context(), s)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, out)
}

// silencedEnvExists refuses a silence for an environment the server does
// not have ("" is every environment): a typo in the project or the
// environment would silence nothing while the alerts go on paging.
func (a *API) silencedEnvExists(ctx context.Context, project, env string) error {
	if env == "" || a.opts.Deploy == nil {
		return nil
	}
	envs, err := a.opts.Deploy.Environments(ctx, project)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(envs))
	for _, e := range envs {
		if e.Name == env {
			return nil
		}
		names = append(names, e.Name)
	}
	if len(names) == 0 {
		return usererr.New(usererr.NotFound, "no project %q: nothing silenced", project).
			WithHint("check the name in 'phoenix projects'")
	}
	return usererr.New(usererr.NotFound, "no environment %q in project %q: nothing silenced", env, project).
		WithHint("its environments: %s", strings.Join(names, ", "))
}

func (a *API) expireSilence(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		WriteError(w, r, usererr.New(usererr.Invalid, "silence id %q: want a number", r.PathValue("id")))
		return
	}
	all, err := a.opts.Monitor.Silences(r.Context(), true)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	for _, s := range all {
		if s.ID != id {
			continue
		}
		if !a.requireSilence(w, r, s.Environment) {
			return
		}
		if err := a.opts.Monitor.ExpireSilence(r.Context(), id, PrincipalFrom(r.Context()).User); err != nil {
			WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	WriteError(w, r, usererr.New(usererr.NotFound, "no silence %d", id).WithHint("see phoenix alerts silences"))
}
