package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/client"
)

// statusReplicas reads GET /api/v1/replicas for phoenix status: the
// servers sharing the database, if any. A server without the route (older)
// or a lone server gives none.
func statusReplicas(ctx context.Context, c *client.Client) []app.ReplicaState {
	var out []app.ReplicaState
	if err := c.Do(ctx, "GET", client.Path("replicas"), nil, &out); err != nil {
		return nil
	}
	return out
}

// printReplicas shows each replica's state, role, own edge's health and
// what it serves, after the environments.
func printReplicas(w io.Writer, rs []app.ReplicaState, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := newTable(w, "replica", "state", "role", "edge", "last seen", "serves")
	for _, r := range rs {
		role, edge := "follower", "ok"
		if r.Leader {
			role = "leader"
		}
		if !r.EdgeOK {
			edge = "DOWN: " + r.EdgeErr
		}
		t.row(r.Replica, r.State, role, edge, now.Sub(r.Seen).Round(time.Second).String()+" ago", servesCell(r.Serves))
	}
	return t.flush()
}

// servesCell lists "project/env=deployment" in name order.
func servesCell(m map[string]int64) string {
	var out []string
	for name, id := range m {
		out = append(out, fmt.Sprintf("%s=%d", envLabel(name), id))
	}
	sort.Strings(out)
	return dash(strings.Join(out, " "))
}
