package backup

import (
	"context"
	"path/filepath"
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

// TestCreateLeavesOutCorruptBlob: a blob whose bytes were altered after it
// was stored under its digest is not backed up as if it were good: the
// snapshot has every other file, and names the blob in Corrupt.
func TestCreateLeavesOutCorruptBlob(t *testing.T) {
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	good := addBlob(t, data, []byte("<h1>a good page</h1>"))
	bad := addBlob(t, data, []byte("<h1>LOCAL UNTRACKED</h1>"))
	writeFile(t, data, bad, []byte("<h1>LoCAL UNTRACKED</h1>"), 0o444) // one flipped bit
	s := create(t, r, data, time.Now())
	if len(s.Corrupt) != 1 || s.Corrupt[0].Path != bad || s.Corrupt[0].Name != "sha256:"+filepath.Base(bad) || s.Corrupt[0].Actual == s.Corrupt[0].Name {
		t.Fatalf("Corrupt = %+v, want %s named", s.Corrupt, bad)
	}
	paths := map[string]bool{}
	for _, e := range s.Files {
		paths[e.Path] = true
	}
	if paths[bad] || !paths[good] || !paths["state.db"] {
		t.Errorf("snapshot files %v: want the good blob and state.db, not the corrupt blob", paths)
	}
}
