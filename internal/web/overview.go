package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// projectView is one project on the overview: its environments (every
// declared one, from /api/v1/projects, with the release, health and SLA
// /api/v1/status reports for it) and its newest run.
type projectView struct {
	Name    string
	Envs    []envView
	LastRun *pipeline.Run
	// Notify is what keeps the project's notifications from their
	// channels (the same in each of its environments' reports), or nil.
	Notify *api.NotifyHealth
}

// envView is one environment on the overview: its status report (empty
// before its first deployment and monitor data) and its domains.
type envView struct {
	api.EnvReport
	Kind    string
	Domains []string
}

// backupView is the server's backup status (/api/v1/backups/status), the
// fields the page shows of app.BackupStatus (app imports web, so web
// decodes its own copy).
type backupView struct {
	Repo         string     `json:"repo"`
	Schedule     string     `json:"schedule"`
	Running      bool       `json:"running"`
	LastSuccess  *time.Time `json:"last_success"`
	LastSnapshot string     `json:"last_snapshot"`
	LastFailure  *time.Time `json:"last_failure"`
	LastError    string     `json:"last_error"`
	NextRun      *time.Time `json:"next_run"`
	Overdue      bool       `json:"overdue"`
}

type overviewData struct {
	Projects  []projectView
	Alerts    []monitor.Alert
	Runs      []pipeline.Run
	Backup    *backupView
	BackupErr string
	Replicas  []replicaView // the servers sharing the database (replicas.go)
}

func (d *Dashboard) overview(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Overview", "overview"
	var reports []api.EnvReport
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/status", nil, &reports); err != nil {
		return "", err
	}
	projects, err := d.projects(r, s)
	if err != nil {
		return "", err
	}
	var runs api.Page[pipeline.Run]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/runs?limit=50", nil, &runs); err != nil {
		return "", err
	}
	data := &overviewData{Projects: groupProjects(projects, reports, runs.Items), Runs: runs.Items[:min(len(runs.Items), 10)]}
	if err := d.olderLastRuns(r, s, data.Projects); err != nil {
		return "", err
	}
	for _, e := range reports {
		data.Alerts = append(data.Alerts, e.Alerts...)
	}
	if v.Can(string(auth.Backup), "", "") {
		data.Backup, data.BackupErr = d.backupStatus(r, s)
	}
	data.Replicas = d.replicas(r, s)
	v.Data = data
	return "overview", nil
}

// projects reads every page of /api/v1/projects: the projects the user
// may read, each with the environments the user may read.
func (d *Dashboard) projects(r *http.Request, s session) ([]deploy.Project, error) {
	var out []deploy.Project
	q := url.Values{"limit": {"1000"}}
	for {
		var page api.Page[deploy.Project]
		if _, err := d.call(r, s, http.MethodGet, "/api/v1/projects?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// groupProjects lists every project in name order with every environment
// it declares, each with its status report when /api/v1/status has one
// (an environment never deployed has none: the page says so), and the
// project's newest run (runs come newest first).
func groupProjects(projects []deploy.Project, reports []api.EnvReport, runs []pipeline.Run) []projectView {
	byName := map[string]*projectView{}
	var out []*projectView
	get := func(name string) *projectView {
		if byName[name] == nil {
			byName[name] = &projectView{Name: name}
			out = append(out, byName[name])
		}
		return byName[name]
	}
	listed := map[string]bool{}
	for _, p := range projects {
		pv := get(p.Name)
		for _, e := range p.Environments {
			listed[p.Name+"/"+e.Name] = true
			pv.Envs = append(pv.Envs, envView{EnvReport: api.EnvReport{Project: p.Name, Name: e.Name,
				EnvStatus: monitor.EnvStatus{Health: monitor.HealthUnknown}}, Kind: e.Kind, Domains: e.Domains})
		}
	}
	for _, rep := range reports {
		if rep.Project == "" { // host metrics have no project
			continue
		}
		pv := get(rep.Project)
		if pv.Notify == nil {
			pv.Notify = rep.Notifications
		}
		if rep.ProjectOnly() { // nothing deployed: the project's channels only
			continue
		}
		if !listed[rep.Project+"/"+rep.Name] {
			pv.Envs = append(pv.Envs, envView{EnvReport: rep})
			continue
		}
		for i := range pv.Envs {
			if pv.Envs[i].Name == rep.Name {
				pv.Envs[i].EnvReport = rep
			}
		}
	}
	for i := range runs {
		if p := get(runs[i].Project); p.LastRun == nil {
			p.LastRun = &runs[i]
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	res := make([]projectView, len(out))
	for i, p := range out {
		sort.Slice(p.Envs, func(a, b int) bool { return p.Envs[a].Name < p.Envs[b].Name })
		res[i] = *p
	}
	return res
}

// olderLastRuns finds the last run of each project that has none among
// the newest runs (a busy project's runs fill them): one call each; a
// refusal (a project the runs API does not know) leaves it without.
func (d *Dashboard) olderLastRuns(r *http.Request, s session, projects []projectView) error {
	for i := range projects {
		if projects[i].LastRun != nil {
			continue
		}
		var page api.Page[pipeline.Run]
		q := url.Values{"project": {projects[i].Name}, "limit": {"1"}}
		_, err := d.call(r, s, http.MethodGet, "/api/v1/runs?"+q.Encode(), nil, &page)
		var ae *apiError
		if errors.As(err, &ae) {
			continue
		}
		if err != nil {
			return err
		}
		if len(page.Items) > 0 {
			projects[i].LastRun = &page.Items[0]
		}
	}
	return nil
}

// backupStatus asks for the backup status; a server without backups
// answers with an error, shown in place of the status.
func (d *Dashboard) backupStatus(r *http.Request, s session) (*backupView, string) {
	var b backupView
	_, err := d.call(r, s, http.MethodGet, "/api/v1/backups/status", nil, &b)
	var ae *apiError
	if errors.As(err, &ae) {
		return nil, ae.Message
	}
	if err != nil {
		d.opts.Logger.Error("dashboard: backup status", "err", err)
		return nil, "unavailable"
	}
	return &b, ""
}

// backupNow takes a backup through the API (which answers when it is
// done and restore-tested).
func (d *Dashboard) backupNow(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	var res struct {
		Snapshot struct {
			ID string `json:"id"`
		} `json:"snapshot"`
		RestoreTest string `json:"restore_test"`
	}
	if _, err := d.call(r, s, http.MethodPost, "/api/v1/backups", nil, &res); err != nil {
		return "", "", err
	}
	return "/", "Backup " + short(res.Snapshot.ID) + " taken; restore test " + res.RestoreTest + ".", nil
}
