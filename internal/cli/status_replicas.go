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
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// statusReplicas reads GET /api/v1/replicas for phoenix status: the
// servers sharing the database, if any. A server without the route (older)
// or a lone server gives none: [], not nil, for -o json. Any other failure
// (the server went away between the two requests, a database error) is
// returned as its message, so that it is not shown as "no replicas".
func statusReplicas(ctx context.Context, c *client.Client) ([]app.ReplicaState, string) {
	var out []app.ReplicaState
	err := c.Do(ctx, "GET", client.Path("replicas"), nil, &out)
	switch {
	case err != nil && usererr.KindOf(err) != usererr.NotFound:
		return []app.ReplicaState{}, err.Error()
	case err != nil || out == nil:
		return []app.ReplicaState{}, ""
	}
	return out, ""
}

// printReplicasError says the replicas could not be read, after the
// environments, when they could not.
func printReplicasError(w io.Writer, msg string) {
	if msg != "" {
		fmt.Fprintf(w, "\nREPLICAS  could not be read: %s\n", msg)
	}
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
		t.row(r.Replica, r.State, role, edge, compactDuration(now.Sub(r.Seen).Round(time.Second))+" ago", servesCell(r.Serves, r.Behind, now))
	}
	return t.flush()
}

// servesCell lists "project/env=deployment" in name order, each
// environment the replica is behind on marked with for how long.
func servesCell(serves map[string]int64, behind map[string]time.Time, now time.Time) string {
	var out []string
	for name, id := range serves {
		out = append(out, fmt.Sprintf("%s=%d%s", envLabel(name), id, behindNote(behind, name, now)))
	}
	for name := range behind {
		if _, ok := serves[name]; !ok {
			out = append(out, fmt.Sprintf("%s=-%s", envLabel(name), behindNote(behind, name, now)))
		}
	}
	sort.Strings(out)
	return dash(strings.Join(out, " "))
}

// behindNote is " (BEHIND 2m)" when the replica's edge has not served
// env's active deployment since then, else "".
func behindNote(behind map[string]time.Time, env string, now time.Time) string {
	since, ok := behind[env]
	if !ok {
		return ""
	}
	return " (BEHIND " + compactDuration(now.Sub(since).Round(time.Second)) + ")"
}
