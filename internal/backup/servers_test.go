package backup

import (
	"context"
	"testing"
	"time"
)

// createAs backs up data as server at time at.
func createAs(t *testing.T, r *Repo, data, server string, at time.Time) *Snapshot {
	t.Helper()
	s, err := r.Create(context.Background(), CreateOptions{DataDir: data, Host: "same-machine", Server: server, Now: fixedNow(at)})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

// TestForgetOnlyItsOwnServer: a second server on the repository (a restore
// drill) with a short retention forgets its own old snapshots and none of
// the production server's, nor those taken before servers were recorded.
func TestForgetOnlyItsOwnServer(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	prod, _ := dataDir(t)
	drill, _ := dataDir(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	legacy := createAs(t, r, prod, "", t0)
	p1 := createAs(t, r, prod, "prod", t0.Add(time.Hour))
	p2 := createAs(t, r, prod, "prod", t0.Add(2*time.Hour))
	d1 := createAs(t, r, drill, "drill", t0.Add(3*time.Hour))
	d2 := createAs(t, r, drill, "drill", t0.Add(4*time.Hour))

	gone, err := r.Forget(ctx, "drill", time.Minute, t0.Add(5*time.Hour))
	if err != nil || len(gone) != 1 || gone[0].ID != d1.ID {
		t.Fatalf("drill's Forget = %+v, %v; want only its older snapshot %s", gone, err, d1.ID[:8])
	}
	gone, err = r.Forget(ctx, "prod", time.Minute, t0.Add(5*time.Hour))
	if err != nil || len(gone) != 1 || gone[0].ID != p1.ID {
		t.Fatalf("prod's Forget = %+v, %v; want only its older snapshot %s", gone, err, p1.ID[:8])
	}
	list, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]string{}
	for _, s := range list {
		left[s.ID] = s.Server
	}
	want := map[string]string{d2.ID: "drill", p2.ID: "prod", legacy.ID: ""}
	if len(left) != len(want) {
		t.Fatalf("left %v, want %v", left, want)
	}
	for id, srv := range want {
		if got, ok := left[id]; !ok || got != srv {
			t.Errorf("snapshot %s: server %q (listed %v), want %q", id[:8], got, ok, srv)
		}
	}
	if _, err := r.Forget(ctx, "", time.Minute, t0); err == nil {
		t.Error("Forget with no server identity: no error")
	}
}
