package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// brokenSite is a release whose /broken answers 503 (a route's statusCode).
var brokenSite = map[string]string{"index.html": "<title>ok</title>",
	"staticwebapp.config.json": `{"routes": [{"route": "/broken", "rewrite": "/index.html", "statusCode": 503}]}`}

// leaderEdgeFigures samples the leader's edges and returns the requests and
// failed requests its monitor recorded for production.shop.
func leaderEdgeFigures(t *testing.T, leader *App, since time.Time) (n, failed int64) {
	t.Helper()
	ctx := context.Background()
	leader.Monitor.SampleEdge()
	if err := leader.Monitor.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := leader.Monitor.Store().Query(ctx, "edge/", since, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	a := q["edge/production.shop"]
	return a.N, a.N - a.Good
}

// TestReplicasMergeEdgeTelemetry: requests a follower's edge answered are
// in the leader's monitor figures, counted once however often it samples,
// and fire an error-rate alert; GET /api/v1/replicas shows both replicas,
// the leader, their own edges' health and what they serve; a stopped
// follower is shown stopped and adds nothing more.
func TestReplicasMergeEdgeTelemetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	since := time.Now().Add(-time.Minute)
	deploySite(t, follower, "production", "v1", "pipeline run 1", brokenSite)
	eventually(t, "the leader serves v1", pageIs(t, leader, "production", "<title>ok</title>"))
	_, base := leaderEdgeFigures(t, leader, since) // the base of every source: the leader's 503s before it served v1

	for range 20 {
		if code, _ := edgeGet(t, follower, "production", "/broken"); code != http.StatusServiceUnavailable {
			t.Fatalf("the follower's /broken answered %d", code)
		}
	}
	rule := monitor.Rule{Name: "HighErrorRate", Metric: "requests/failed", Threshold: 5, Window: 5 * time.Minute,
		FailureThreshold: 1, Environment: "production.shop"}
	eventually(t, "the follower's 20 failed requests reach the leader's monitor", func() bool {
		_, failed := leaderEdgeFigures(t, leader, since)
		failed -= base
		if failed > 20 {
			t.Fatalf("%d failed requests counted, 20 were made", failed)
		}
		return failed == 20
	})
	eventually(t, "the error-rate alert fires on the leader", func() bool {
		leader.Monitor.SetRules([]monitor.Rule{rule}) // a reload of the project's configuration may have replaced it
		if err := leader.Monitor.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		alerts, err := leader.Monitor.Alerts(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			if a.ID == "HighErrorRate@production.shop" && a.State == "firing" {
				return true
			}
		}
		return false
	})

	var states []ReplicaState
	eventually(t, "both replicas report serving production (at their next heartbeat)", func() bool {
		states = replicasOf(t, follower)
		if len(states) != 2 {
			return false
		}
		for _, s := range states {
			if s.State != ReplicaUp || !s.EdgeOK || s.Serves["production.shop"] == 0 {
				return false
			}
		}
		return true
	})
	for _, s := range states {
		if s.Leader != (s.Replica == leader.advertise()) {
			t.Fatalf("replica %+v (leader %s)", s, leader.advertise())
		}
	}

	follower.Stop(ctx)
	eventually(t, "the stopped follower is shown stopped", func() bool {
		for _, s := range replicasOf(t, leader) {
			if s.Replica == follower.advertise() {
				return s.State == ReplicaStopped && !s.Leader
			}
		}
		return false
	})
	if got := leader.otherEdges(); len(got) != 0 {
		t.Fatalf("a stopped replica's telemetry is still merged: %+v", got)
	}
	n1, failed1 := leaderEdgeFigures(t, leader, since)
	n2, failed2 := leaderEdgeFigures(t, leader, since)
	if failed1-base != 20 || failed2-base != 20 || n1 != n2 {
		t.Fatalf("figures moved after the follower stopped: %d/%d then %d/%d", n1, failed1, n2, failed2)
	}
}

// TestReplicaSilentAgesOut: a replica that stops publishing without its
// clean stop (killed, cut off) is shown stale once three polls pass
// without a heartbeat, and its figures leave the merge.
func TestReplicaSilentAgesOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	deploySite(t, follower, "production", "v1", "pipeline run 1", brokenSite)
	eventually(t, "the follower published its edge's telemetry", func() bool { return len(leader.otherEdges()) == 1 })
	follower.Stop(ctx)
	// What a killed replica leaves: its last rows, never marked stopped.
	if _, err := leader.DB.ExecContext(ctx, `UPDATE replicas SET stopped = 0 WHERE replica = $1`, follower.advertise()); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, "the silent follower is stale and out of the merge", func() bool {
		for _, s := range replicasOf(t, leader) {
			if s.Replica == follower.advertise() {
				return s.State == ReplicaStale && len(leader.otherEdges()) == 0
			}
		}
		return false
	})
	t.Logf("a silent replica aged out %v after its rows were last written (poll %v)", took, replicaPoll)

	// Gone for more than a week, the leader forgets it; the leader stays.
	week := (replicaForget + time.Hour).Milliseconds()
	for _, q := range []string{`UPDATE replicas SET seen = seen - $1 WHERE replica = $2`, `UPDATE replica_edges SET at = at - $1 WHERE replica = $2`} {
		if _, err := leader.DB.ExecContext(ctx, q, week, follower.advertise()); err != nil {
			t.Fatal(err)
		}
	}
	if err := leader.pruneReplicas(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if reps := replicasOf(t, leader); len(reps) != 1 || reps[0].Replica != leader.advertise() {
		t.Fatalf("after the prune: %+v", reps)
	}
	var n, edges int
	if err := leader.DB.QueryRowContext(ctx, `SELECT count(*) FROM replicas WHERE replica = $1`, follower.advertise()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := leader.DB.QueryRowContext(ctx, `SELECT count(*) FROM replica_edges WHERE replica = $1`, follower.advertise()).Scan(&edges); err != nil {
		t.Fatal(err)
	}
	if n != 0 || edges != 0 {
		t.Fatalf("a replica gone for a week is still listed: %d heartbeat, %d telemetry rows", n, edges)
	}
}

// replicasOf asks a's API for GET /api/v1/replicas.
func replicasOf(t *testing.T, a *App) []ReplicaState {
	t.Helper()
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.APIURL()+"/api/v1/replicas", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []ReplicaState
	if err := json.NewDecoder(resp.Body).Decode(&out); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET /api/v1/replicas: %d %v", resp.StatusCode, err)
	}
	return out
}

// TestReplicaLogsOutliveTheRunner: a finished run's logs are read through
// another replica after the replica that ran it stopped (from the
// database), and no secret the run used is in what is stored.
func TestReplicaLogsOutliveTheRunner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := leader.Vault.Set(ctx, admin, "API_TOKEN", vault.SecretString(secretMarker), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	dir, _ := workflowDir(t, "echo token=$API_TOKEN\n        secrets: [API_TOKEN]")
	run, err := follower.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: dir, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run finished on the leader", func() bool { return pipeline.Finished(runStatus(t, follower, run.ID)) })
	if st := runStatus(t, follower, run.ID); st != pipeline.Succeeded {
		t.Fatalf("the run %s", st)
	}
	var gz []byte
	if err := follower.DB.QueryRowContext(ctx, `SELECT gz FROM pipeline_step_logs WHERE run_id = $1`, run.ID).Scan(&gz); err != nil {
		t.Fatalf("no stored log: %v", err)
	}
	leader.Stop(ctx)
	body := runLogs(t, follower, run.ID)
	if !strings.Contains(body, "output of the step") || !strings.Contains(body, "token=***") {
		t.Fatalf("the run's logs through the follower after the runner stopped: %q", body)
	}
	var stored []byte
	if err := follower.DB.QueryRowContext(ctx, `SELECT gz FROM pipeline_step_logs WHERE run_id = $1`, run.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	plain := gunzip(t, stored)
	if strings.Contains(plain, secretMarker) || strings.Contains(body, secretMarker) || !strings.Contains(plain, "token=***") {
		t.Fatalf("the stored log %q", plain)
	}

	// A run still running on a runner that does not answer: the replica
	// asked serves the steps stored so far instead of an error.
	if _, err := follower.DB.ExecContext(ctx, `UPDATE pipeline_runs SET status = $1, runner = $2 WHERE id = $3`,
		pipeline.Running, "http://127.0.0.1:1", run.ID); err != nil {
		t.Fatal(err)
	}
	if body := runLogs(t, follower, run.ID); !strings.Contains(body, "token=***") {
		t.Fatalf("the logs of a run whose runner does not answer: %q", body)
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
