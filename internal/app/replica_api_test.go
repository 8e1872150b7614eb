package app

import (
	"context"
	"testing"
)

// TestStandaloneServerListsNoReplicas: a server started without
// --replica on a database replicas used (a restore drill: a backup of a
// cluster on a new database) lists none of their heartbeats, a stopped
// one nor a silent one, and keeps the rows for replicas started later.
func TestStandaloneServerListsNoReplicas(t *testing.T) {
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
