package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
)

var runsQuery = append([]param{{name: "project", max: 100}, {name: "status", max: 20, allowed: pipeline.RunStatuses}}, pageQuery...)

type runsData struct {
	Runs            []pipeline.Run
	Project, Status string
	Statuses        []string
	NextURL         string // the older runs, when there are more
}

func (d *Dashboard) runs(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Runs", "runs"
	q, err := parseQuery(r.URL.Query(), runsQuery)
	if err != nil {
		return "", err
	}
	var page api.Page[pipeline.Run]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/runs?"+q.Encode(), nil, &page); err != nil {
		return "", err
	}
	data := &runsData{Runs: page.Items, Project: q.Get("project"), Status: q.Get("status"), Statuses: pipeline.RunStatuses}
	if page.NextCursor != "" {
		q.Set("cursor", page.NextCursor)
		data.NextURL = "/ui/runs?" + q.Encode()
	}
	v.Data = data
	return "runs", nil
}

// maxLogShown is how much of a run's log the page shows (its end).
const maxLogShown = 256 << 10

type runData struct {
	Run       pipeline.RunDetail
	Step      string
	Log       string
	Truncated bool
	Active    bool // queued, running or waiting: can be cancelled
	// Gate is the environment whose approval gate the run waits at ("":
	// none, or a run without its plan); approving it needs approve there.
	Gate string
	// ActsOn are the environments the run acts on: cancelling or running
	// it again needs deploy on each (on the project when there are none).
	ActsOn []string
}

func (d *Dashboard) run(r *http.Request, s session, v *view) (string, error) {
	id, err := runIDOf(r)
	if err != nil {
		return "", err
	}
	q, err := parseQuery(r.URL.Query(), []param{{name: "step", max: 200}})
	if err != nil {
		return "", err
	}
	data := &runData{Step: q.Get("step")}
	base := "/api/v1/runs/" + strconv.FormatInt(id, 10)
	if _, err := d.call(r, s, http.MethodGet, base, nil, &data.Run); err != nil {
		return "", err
	}
	rec, err := d.callTail(r, s, base+"/logs?"+q.Encode(), maxLogShown)
	if err != nil {
		return "", err
	}
	log := rec.body.Bytes()
	if rec.cut { // from the first whole line
		log = log[bytes.IndexByte(log, '\n')+1:]
	}
	data.Log, data.Truncated = executor.WithoutANSI(string(log)), rec.cut
	st := data.Run.Status
	data.Active = st == pipeline.Queued || st == pipeline.Running || st == pipeline.Waiting
	data.Gate, data.ActsOn = waitingGate(&data.Run), data.Run.ActsOn()
	v.Title, v.Nav, v.Data = "Run #"+strconv.FormatInt(id, 10), "runs", data
	return "run", nil
}

// waitingGate is the environment of the approval step the run waits at.
func waitingGate(d *pipeline.RunDetail) string {
	if d.Status != pipeline.Waiting || d.Plan == nil {
		return ""
	}
	for _, st := range d.Plan.Steps {
		for _, state := range d.Steps {
			if st.Kind() == "approval" && state.ID == st.ID && state.Status == pipeline.Waiting {
				return st.Environment
			}
		}
	}
	return ""
}

func runIDOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such run."}
	}
	return id, nil
}

// decideRun approves, rejects, cancels or retries a run.
func (d *Dashboard) decideRun(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	id, err := runIDOf(r)
	if err != nil {
		return "", "", err
	}
	base := "/api/v1/runs/" + strconv.FormatInt(id, 10)
	back := "/ui/runs/" + strconv.FormatInt(id, 10)
	switch dec := r.PathValue("decision"); dec {
	case "approve", "reject":
		req := api.DecisionRequest{Environment: r.PostForm.Get("environment"), Comment: r.PostForm.Get("comment")}
		if _, err := d.call(r, s, http.MethodPost, base+"/"+dec, req, nil); err != nil {
			return "", "", err
		}
		return back, map[string]string{"approve": "Approved.", "reject": "Rejected."}[dec], nil
	case "cancel":
		if _, err := d.call(r, s, http.MethodPost, base+"/cancel", nil, nil); err != nil {
			return "", "", err
		}
		return back, "Cancelled.", nil
	case "retry":
		var run pipeline.Run
		if _, err := d.call(r, s, http.MethodPost, base+"/retry", nil, &run); err != nil {
			return "", "", err
		}
		return "/ui/runs/" + strconv.FormatInt(run.ID, 10), "Started run #" + strconv.FormatInt(run.ID, 10) + ".", nil
	}
	return "", "", &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such action."}
}
