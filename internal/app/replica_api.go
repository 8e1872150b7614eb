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
}

// Replica states.
const (
	ReplicaUp      = "up"
	ReplicaStale   = "stale"
	ReplicaStopped = "stopped"
)

func (a *App) replicaRoutes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/api/v1/replicas", Tag: "server", Perm: auth.Read,
		Summary:  "The servers sharing the database (--replica): heartbeat, leader, own edge's health, what each serves; empty on a lone server",
		Response: []ReplicaState{}, Handler: a.listReplicas}}
}

func (a *App) listReplicas(w http.ResponseWriter, r *http.Request) {
	list, err := a.Replicas(r.Context())
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, list)
}

// Replicas lists the replicas that published a heartbeat, by address
// (none without --replica).
func (a *App) Replicas(ctx context.Context) ([]ReplicaState, error) {
	rows, err := a.DB.QueryContext(ctx, `SELECT replica, started, seen, stopped, leader, edge_ok, edge_error, served
		FROM replicas ORDER BY replica`)
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
		var served string
		if err := rows.Scan(&s.Replica, &started, &seen, &stopped, &leading, &edgeOK, &s.EdgeErr, &served); err != nil {
			return nil, fmt.Errorf("replicas: list: %w", err)
		}
		s.Started, s.Seen, s.EdgeOK = time.UnixMilli(started).UTC(), time.UnixMilli(seen).UTC(), edgeOK == 1
		_ = json.Unmarshal([]byte(served), &s.Serves)
		switch {
		case stopped != 0:
			s.State = ReplicaStopped
		case s.Seen.Before(fresh):
			s.State = ReplicaStale
		default:
			s.State, s.Leader = ReplicaUp, leading == 1
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
