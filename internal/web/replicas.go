package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// replicaView is one server sharing the database, from GET
// /api/v1/replicas: the fields the overview shows of app.ReplicaState
// (app imports web, so web decodes its own copy).
type replicaView struct {
	Replica string           `json:"replica"`
	State   string           `json:"state"` // up, stale or stopped
	Leader  bool             `json:"leader"`
	EdgeOK  bool             `json:"edge_ok"`
	EdgeErr string           `json:"edge_error"`
	Seen    time.Time        `json:"seen_at"`
	Serves  map[string]int64 `json:"serves"`
	// Behind: the environments whose active deployment its edge does not
	// serve, since when.
	Behind map[string]time.Time `json:"behind"`
}

// ServesList is what the replica's edge serves, "project/env #deployment"
// in name order, an environment it is behind on marked "behind".
func (rv replicaView) ServesList() string {
	var out []string
	for name, id := range rv.Serves {
		out = append(out, envName(name)+" #"+strconv.FormatInt(id, 10)+rv.behind(name))
	}
	for name := range rv.Behind {
		if _, ok := rv.Serves[name]; !ok {
			out = append(out, envName(name)+" —"+rv.behind(name))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (rv replicaView) behind(name string) string {
	if _, ok := rv.Behind[name]; ok {
		return " (BEHIND)"
	}
	return ""
}

// envName is "project/env" for an edge environment name "env.project".
func envName(name string) string {
	if env, project, ok := strings.Cut(name, "."); ok {
		return project + "/" + env
	}
	return name
}

// replicas lists the replicas for the overview: none on a lone server, and
// none (logged) when the API does not answer, so the rest of the page
// still shows.
func (d *Dashboard) replicas(r *http.Request, s session) []replicaView {
	var out []replicaView
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/replicas", nil, &out); err != nil {
		d.opts.Logger.Warn("dashboard: replicas", "err", err)
		return nil
	}
	return out
}
