package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
)

// ReplicaState is what GET /api/v1/replicas says of one replica.
type ReplicaState struct {
	Replica string    `json:"replica"` // its advertised API URL (--advertise-url)
	State   string    `json:"state"`   // up, stale (no heartbeat for three polls) or stopped
	Leader  bool      `json:"leader"`
	EdgeOK  bool      `json:"edge_ok"`              // its own edge answered its last self-check
	EdgeErr string    `json:"edge_error,omitempty"` // why not
	Started time.Time `json:"started_at"`
	Seen    time.Time `json:"seen_at"` // its last heartbeat
	// Serves maps each environment (<env>.<project>) to the deployment id
	// its edge serves.
	Serves map[string]int64 `json:"serves"`
	// Behind maps each environment whose active deployment its edge does
	// not serve (it cannot fetch the release's blobs, or has not yet) to
	// since when; the built-in replica-down alert fires after two polls.
	Behind map[string]time.Time `json:"behind,omitempty"`
}

// Replica states.
const (
	ReplicaUp      = "up"
	ReplicaStale   = "stale"
	ReplicaStopped = "stopped"
)

func (a *App) replicaRoutes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/api/v1/replicas", Tag: "server", Perm: auth.Read,
		Summary:  "The servers sharing the database (--replica): heartbeat, leader, own edge's health, what each serves and the environments it is behind on (those the caller may read); empty on a lone server",
		Response: []ReplicaState{}, Handler: a.listReplicas}}
}

func (a *App) listReplicas(w http.ResponseWriter, r *http.Request) {
	list, err := a.Replicas(r.Context())
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	for i := range list {
		list[i].Serves = readableOnly(r, list[i].Serves)
		list[i].Behind = readableOnly(r, list[i].Behind)
	}
	api.WriteJSON(w, http.StatusOK, list)
}

// readableOnly keeps the environments ("<env>.<project>") the caller may
// read: one limited to staging learns nothing of production from what a
// replica serves.
func readableOnly[V any](r *http.Request, m map[string]V) map[string]V {
	for name := range m {
		if !api.Readable(r, name) {
			delete(m, name)
		}
	}
	return m
}

// Replicas lists the replicas that published a heartbeat, by address.
// A server without --replica lists none of the heartbeats from before its
// start: it holds its database alone, so those are the database's earlier
// replicas, or another cluster's restored from a backup, never a replica
// of its own. The rows stay for replicas started on it later.
func (a *App) Replicas(ctx context.Context) ([]ReplicaState, error) {
	var since int64
	if !a.opts.Replica.On {
		since = a.started.UnixMilli()
	}
	rows, err := a.DB.QueryContext(ctx, `SELECT replica, started, seen, stopped, leader, edge_ok, edge_error, served, behind
		FROM replicas WHERE seen >= $1 ORDER BY replica`, since)
	if err != nil {
		return nil, fmt.Errorf("replicas: list: %w", err)
	}
	defer rows.Close()
	out := []ReplicaState{}
	fresh := time.Now().Add(-a.staleAfter())
	for rows.Next() {
		var s ReplicaState
		var started, seen, stopped int64
		var leading, edgeOK int
		var served, behind string
		if err := rows.Scan(&s.Replica, &started, &seen, &stopped, &leading, &edgeOK, &s.EdgeErr, &served, &behind); err != nil {
			return nil, fmt.Errorf("replicas: list: %w", err)
		}
		s.Started, s.Seen, s.EdgeOK = time.UnixMilli(started).UTC(), time.UnixMilli(seen).UTC(), edgeOK == 1
		if json.Unmarshal([]byte(served), &s.Serves) != nil || s.Serves == nil {
			s.Serves = map[string]int64{} // serving nothing yet: {}, not null
		}
		s.Behind = behindSince(behind)
		switch {
		case stopped != 0:
			s.State, s.Behind = ReplicaStopped, nil
		case s.Seen.Before(fresh):
			s.State = ReplicaStale
		default:
			s.State, s.Leader = ReplicaUp, leading == 1
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// behindSince reads a heartbeat's behind column; nil when nothing is.
func behindSince(column string) map[string]time.Time {
	var ms map[string]int64
	if json.Unmarshal([]byte(column), &ms) != nil || len(ms) == 0 {
		return nil
	}
	out := make(map[string]time.Time, len(ms))
	for name, t := range ms {
		out[name] = time.UnixMilli(t).UTC()
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
