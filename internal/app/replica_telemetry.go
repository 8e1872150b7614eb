package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// Every replica publishes, every ReplicaOptions.Poll, a heartbeat (table
// replicas: its start, whether its own edge answers, what it serves, if it
// leads) and its edge's telemetry (table replica_edges: growing counters
// since its start, per environment). The leader's monitor merges the
// other replicas' fresh telemetry with its own edge's (monitor.EdgeSource),
// so request metrics and error-rate alerts see every replica's traffic.

// replicaSelf is this replica's identity in those tables.
type replicaSelf struct {
	boot    string    // random, new at every start (its start is App.started)
	failing time.Time // when its own edge started failing its self-check; zero while it answers
	beat    int64     // when its last heartbeat was written (Unix ms); only the heartbeat touches it
	// behind holds, per edge name, since when its edge has not served the
	// environment's active deployment; only the heartbeat touches it.
	behind map[string]time.Time
	// probeAddr, when set, is where the self-check asks instead of the
	// edge's listener: tests point it at a closed port to fail the check
	// for real, and clear it to let the edge answer again.
	probeAddr atomic.Pointer[string]
}

// staleAfter is how long a replica's heartbeat and telemetry count as
// fresh: three publications.
func (a *App) staleAfter() time.Duration { return 3 * a.replicaPoll() }

func (a *App) replicaPoll() time.Duration {
	if a.opts.Replica.Poll > 0 {
		return a.opts.Replica.Poll
	}
	return 5 * time.Second
}

// startTelemetry publishes this replica's heartbeat and edge telemetry
// until Stop, then records the stop.
func (a *App) startTelemetry() {
	a.self = replicaSelf{boot: rand.Text()}
	a.onStop(func(ctx context.Context) error {
		_, err := a.DB.ExecContext(ctx, `UPDATE replicas SET stopped = $1, leader = 0 WHERE replica = $2 AND boot = $3`,
			time.Now().UnixMilli(), a.advertise(), a.self.boot)
		return err
	})
	a.publishReplica(context.Background())
	a.every(a.replicaPoll(), 0, a.publishReplica)
}

// publishReplica writes the heartbeat and the edge's telemetry.
func (a *App) publishReplica(ctx context.Context) {
	if err := a.writeHeartbeat(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("replicas: cannot publish this replica's heartbeat", "err", err)
	}
	if err := a.writeEdgeStats(ctx, a.Edge.Snapshot()); err != nil && ctx.Err() == nil {
		a.log.Warn("replicas: cannot publish this replica's edge telemetry; the leader's monitor misses its requests", "err", err)
	}
	if a.Leading() {
		if err := a.pruneReplicas(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("replicas: cannot forget replicas gone for a week", "err", err)
		}
	}
}

// replicaForget is how long a replica that stopped or went silent stays
// listed (GET /api/v1/replicas) before its rows are deleted.
const replicaForget = 7 * 24 * time.Hour

// pruneReplicas deletes the heartbeats and telemetry of replicas not seen
// for replicaForget, and telemetry rows of an environment no longer
// published for as long (a removed environment).
func (a *App) pruneReplicas(ctx context.Context, now time.Time) error {
	cut := now.Add(-replicaForget).UnixMilli()
	if _, err := a.DB.ExecContext(ctx, `DELETE FROM replicas WHERE seen < $1`, cut); err != nil {
		return err
	}
	_, err := a.DB.ExecContext(ctx, `DELETE FROM replica_edges WHERE at < $1`, cut)
	return err
}

func (a *App) writeHeartbeat(ctx context.Context) error {
	now := time.Now()
	a.edge.mu.Lock()
	serves := maps.Clone(a.edge.served)
	a.edge.mu.Unlock()
	served, _ := json.Marshal(serves)
	behind, err := a.trackBehind(ctx, serves, now)
	if err != nil {
		return err
	}
	edgeErr, probed := a.probeOwnEdge(ctx)
	switch {
	case edgeErr == "":
		a.self.failing = time.Time{}
	case a.self.failing.IsZero():
		a.self.failing = probed
	}
	var failing int64
	if !a.self.failing.IsZero() {
		failing = a.self.failing.UnixMilli()
	}
	a.checkAdvertiseShared(ctx)
	// The heartbeat is dated when it is written, not when it began: the
	// reads and the edge's probe before it can take a good part of a poll
	// on a busy machine, and a replica so dated looked silent (older than
	// staleAfter) to the leader although it wrote every poll.
	a.self.beat = time.Now().UnixMilli()
	_, err = a.DB.ExecContext(ctx, `INSERT INTO replicas (replica, boot, started, seen, stopped, leader, edge_ok, edge_error, served, edge_failing, behind)
		VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10) ON CONFLICT (replica) DO UPDATE SET boot = excluded.boot,
		started = excluded.started, seen = excluded.seen, stopped = 0, leader = excluded.leader, edge_ok = excluded.edge_ok,
		edge_error = excluded.edge_error, served = excluded.served, edge_failing = excluded.edge_failing, behind = excluded.behind`,
		a.advertise(), a.self.boot, a.started.UnixMilli(), a.self.beat, boolInt(a.Leading()),
		boolInt(edgeErr == ""), edgeErr, string(served), failing, behind)
	return err
}

// checkAdvertiseShared logs an error when another running server wrote
// this replica's heartbeat since its last one: two replicas given the same
// --advertise-url (or its default, the same --listen on two machines)
// overwrite each other's heartbeats, and the logs of the runs either runs
// are asked of whichever wrote last. A server restarted after a crash
// (its old heartbeat's writer gone) is not one: nothing writes after it.
func (a *App) checkAdvertiseShared(ctx context.Context) {
	if a.self.beat == 0 {
		return
	}
	var boot string
	var seen int64
	err := a.DB.QueryRowContext(ctx, `SELECT boot, seen FROM replicas WHERE replica = $1`, a.advertise()).Scan(&boot, &seen)
	if err != nil || boot == a.self.boot || seen <= a.self.beat {
		return
	}
	a.log.Error("replicas: another running server uses this replica's address", "replica", a.advertise(),
		"hint", "give every replica its own --advertise-url (PHOENIX_ADVERTISE_URL), the URL the others reach its API at: their heartbeats overwrite each other and run logs are asked of the wrong one")
}

// trackBehind compares what the edge serves with the active deployments
// and returns, as the heartbeat's JSON, since when each environment whose
// active deployment it does not serve has been so (a.self.behind). A
// replica catches up within milliseconds of an activation; one that
// cannot fetch the release's blobs stays behind, answering its visitors
// with the old release or none, while its edge answers its self-check.
func (a *App) trackBehind(ctx context.Context, serves map[string]int64, now time.Time) (string, error) {
	active, err := a.Deploy.Active(ctx)
	if err != nil {
		return "", fmt.Errorf("replicas: read the active deployments: %w", err)
	}
	since := map[string]time.Time{}
	for _, r := range active {
		name := edgeName(r.Project, r.Environment)
		if serves[name] == r.Deployment.ID {
			continue
		}
		since[name] = now
		if t, ok := a.self.behind[name]; ok {
			since[name] = t
		}
	}
	a.self.behind = since
	out := make(map[string]int64, len(since))
	for name, t := range since {
		out[name] = t.UnixMilli()
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// probeOwnEdge asks this replica's edge for a page through its listener:
// any HTTP answer means it serves. It returns "" or what went wrong, and
// when the probe began: a failing edge has failed since then, not since
// the heartbeat began (reading the active deployments before it can take
// a while on a busy database).
func (a *App) probeOwnEdge(ctx context.Context) (string, time.Time) {
	if a.edgeAddr == nil {
		return "the edge is not listening", time.Now()
	}
	addr := a.edgeAddr.String()
	if p := a.self.probeAddr.Load(); p != nil {
		addr = *p
	}
	probed := time.Now()
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+net.JoinHostPort(host, port)+"/", nil)
	if err != nil {
		return err.Error(), probed
	}
	req.Host = "replica-heartbeat.invalid"
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return fmt.Sprintf("the edge at %s does not answer: %v", addr, err), probed
	}
	resp.Body.Close()
	return "", probed
}

func (a *App) writeEdgeStats(ctx context.Context, snaps []edge.EnvStats) error {
	now := time.Now().UnixMilli()
	for _, s := range snaps {
		if s.Env == "" {
			continue
		}
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = a.DB.ExecContext(ctx, `INSERT INTO replica_edges (replica, environment, boot, started, at, stats)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (replica, environment) DO UPDATE SET boot = excluded.boot,
			started = excluded.started, at = excluded.at, stats = excluded.stats`,
			a.advertise(), s.Env, a.self.boot, a.started.UnixMilli(), now, string(b))
		if err != nil {
			return err
		}
	}
	return nil
}

// otherEdges is the fresh edge telemetry the other replicas published,
// for the leader's monitor: one source per replica with a fresh heartbeat
// (even with no environment yet, so that an environment it adds later
// counts from zero). A replica stopped or silent for staleAfter is left
// out: its figures stop growing, the monitor adds nothing for it.
func (a *App) otherEdges() []monitor.EdgeSource {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := a.DB.QueryContext(ctx, `SELECT r.replica, r.boot, r.started, e.stats FROM replicas r
		LEFT JOIN replica_edges e ON e.replica = r.replica AND e.boot = r.boot AND e.at >= $2
		WHERE r.replica <> $1 AND r.seen >= $2 AND r.stopped = 0 ORDER BY r.replica, e.environment`,
		a.advertise(), time.Now().Add(-a.staleAfter()).UnixMilli())
	if err != nil {
		a.log.Warn("replicas: cannot read the other replicas' edge telemetry", "err", err)
		return nil
	}
	defer rows.Close()
	var out []monitor.EdgeSource
	for rows.Next() {
		var server, boot string
		var stats sql.NullString
		var started int64
		if err := rows.Scan(&server, &boot, &started, &stats); err != nil {
			a.log.Warn("replicas: cannot read the other replicas' edge telemetry", "err", err)
			return nil
		}
		if n := len(out); n == 0 || out[n-1].Server != server {
			out = append(out, monitor.EdgeSource{Server: server, Boot: boot, Started: time.UnixMilli(started)})
		}
		var s edge.EnvStats
		if stats.Valid && json.Unmarshal([]byte(stats.String), &s) == nil {
			out[len(out)-1].Stats = append(out[len(out)-1].Stats, s)
		}
	}
	return out
}

// replicaHealth is every listed replica's health for the monitor's
// built-in replica-down alert: silent when it has been stale (no heartbeat
// for staleAfter, three polls) without a clean stop, edge down when its
// own edge has failed its self-check for more than two polls, behind on
// the environments whose active deployment it has not served for more
// than two polls. A replica that stopped cleanly is healthy.
func (a *App) replicaHealth(ctx context.Context) ([]monitor.ReplicaHealth, error) {
	rows, err := a.DB.QueryContext(ctx, `SELECT replica, seen, stopped, edge_failing, behind FROM replicas ORDER BY replica`)
	if err != nil {
		return nil, fmt.Errorf("replicas: health: %w", err)
	}
	defer rows.Close()
	now := time.Now()
	stale, failing := now.Add(-a.staleAfter()).UnixMilli(), now.Add(-2*a.replicaPoll()).UnixMilli()
	var out []monitor.ReplicaHealth
	for rows.Next() {
		var h monitor.ReplicaHealth
		var seen, stopped, since int64
		var behind string
		if err := rows.Scan(&h.Replica, &seen, &stopped, &since, &behind); err != nil {
			return nil, fmt.Errorf("replicas: health: %w", err)
		}
		if stopped == 0 {
			h.Silent = seen < stale
			h.EdgeDown = since != 0 && since < failing
			h.Behind = behindFor(behind, failing)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// behindFor returns the environments of a heartbeat's behind column that
// have been behind since before cut, sorted.
func behindFor(column string, cut int64) []string {
	var since map[string]int64
	_ = json.Unmarshal([]byte(column), &since)
	var out []string
	for name, t := range since {
		if t < cut {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
