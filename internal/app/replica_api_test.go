package app

import (
	"context"
	"encoding/json"
	"testing"
)

// TestStandaloneServerListsNoReplicas: a server started without
// --replica on a database replicas used (a restore drill: a backup of a
// cluster on a new database) lists none of their heartbeats, a stopped
// one nor a silent one, and keeps the rows for replicas started later.
func TestStandaloneServerListsNoReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := newReplicaSet(t)
	r := rs.start(t)
	if reps := replicasOf(t, r); len(reps) != 1 || reps[0].State != ReplicaUp {
		t.Fatalf("the replica lists %+v", reps)
	}
	url := r.advertise()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	o := rs.options(t, t.TempDir())
	o.Replica.On, o.BlobStore = false, nil // a drill: a server of its own
	lone := startOpts(t, o)
	// What a killed replica leaves, as a backup taken while it ran does.
	if _, err := lone.DB.ExecContext(ctx, `UPDATE replicas SET stopped = 0 WHERE replica = $1`, url); err != nil {
		t.Fatal(err)
	}
	if reps := replicasOf(t, lone); len(reps) != 0 {
		t.Fatalf("a server without --replica lists %+v", reps)
	}
	var n int
	if err := lone.DB.QueryRowContext(ctx, `SELECT count(*) FROM replicas`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("replica rows kept = %d, %v", n, err)
	}
}

// TestReplicaServingNothingListsNoNull: a replica whose edge serves no
// release yet (nothing deployed, or behind on its only environment) is
// listed with "serves": {}, as the API's objects are, never null.
func TestReplicaServingNothingListsNoNull(t *testing.T) {
	t.Parallel()
	r := newReplicaSet(t).start(t)
	code, body := apiDo(t, r, "GET", "/api/v1/replicas")
	var list []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list) != 1 {
		t.Fatalf("GET /api/v1/replicas: %d %v %s", code, err, body)
	}
	if got := string(list[0]["serves"]); got != "{}" {
		t.Fatalf("serves of a replica serving nothing = %s, want {}", got)
	}
}
