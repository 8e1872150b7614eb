package backup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestForgetKeepsNewest(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 3 {
		writeFile(t, data, "state.db", []byte{byte(i)}, 0o600)
		ids = append(ids, create(t, r, data, t0.Add(time.Duration(i)*time.Hour)).ID)
	}
	removed, err := r.Forget(ctx, testServer, 24*time.Hour, t0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0].ID != ids[1] || removed[1].ID != ids[0] {
		t.Errorf("removed %+v, want the two older snapshots", removed)
	}
	list, _ := r.List(ctx)
	if len(list) != 1 || list[0].ID != ids[2] {
		t.Errorf("left %+v, want only the newest", list)
	}
}

func TestForgetWindow(t *testing.T) {
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		create(t, r, data, t0.Add(time.Duration(i)*24*time.Hour))
	}
	removed, err := r.Forget(context.Background(), testServer, 36*time.Hour, t0.Add(3*24*time.Hour))
	if err != nil || len(removed) != 2 {
		t.Errorf("removed %d, %v; want the 2 older than 36h", len(removed), err)
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, want := dataDir(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	old := []byte("only in the old snapshot")
	oldBlob := addBlob(t, data, old)
	create(t, r, data, t0)
	removeBlob(t, data, oldBlob)
	create(t, r, data, t0.Add(time.Hour))
	before := len(storeFiles(t, repo, "objects"))
	writeFile(t, repo, ".tmp-db-123/state.db", []byte("left by a crash"), 0o600)

	rep, err := r.Prune(ctx)
	if err != nil || rep.Objects != 0 {
		t.Fatalf("Prune with every object referenced = %+v, %v", rep, err)
	}
	if _, err := r.Forget(ctx, testServer, 0, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err = r.Prune(ctx)
	if err != nil || rep.Objects != 1 || rep.Bytes != storedSize(int64(len(old))) {
		t.Fatalf("Prune = %+v, %v; want the old blob's object", rep, err)
	}
	if n := len(storeFiles(t, repo, "objects")); n != before-1 {
		t.Errorf("objects %d -> %d", before, n)
	}
	if names, _ := readDirNames(repo); len(names) != 4 {
		t.Errorf("repository holds %v after Prune", names)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := r.Restore(ctx, "latest", dst, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, dst), want)
}

func removeBlob(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// TestPruneGoesOnPastADamagedSnapshot: prune, which must know every
// snapshot's objects before it deletes one, failed at a snapshot the disk
// damaged, so every backup whose retention forgot something failed until
// someone deleted its file. Prune keeps the damaged snapshot and every
// object (what it uses is unknown), names it in its report and succeeds;
// once its file is gone, the next prune frees what no snapshot uses.
func TestPruneGoesOnPastADamagedSnapshot(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, want := dataDir(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	onlyOld := addBlob(t, data, []byte("only in the oldest snapshot"))
	old := create(t, r, data, t0)
	removeBlob(t, data, onlyOld)
	onlyBad := addBlob(t, data, []byte("only in the damaged snapshot"))
	bad := create(t, r, data, t0.Add(time.Hour))
	removeBlob(t, data, onlyBad)
	newest := create(t, r, data, t0.Add(2*time.Hour))
	badFile := filepath.Join(repo, "snapshots", "sha256", bad.ID[:2], bad.ID)
	flipByte(t, badFile, headerSize+3)
	objects := len(storeFiles(t, repo, "objects"))

	gone, err := r.Forget(ctx, testServer, 30*time.Minute, t0.Add(2*time.Hour))
	if err != nil || len(gone) != 1 || gone[0].ID != old.ID {
		t.Fatalf("Forget = %+v, %v; want the oldest forgotten", gone, err)
	}
	rep, err := r.Prune(ctx)
	if err != nil {
		t.Fatalf("Prune with a damaged snapshot: %v, want a report naming it", err)
	}
	if len(rep.Damaged) != 1 || rep.Damaged[0] != bad.ID || rep.Objects != 0 || rep.Kept != 2 ||
		rep.KeptBytes != storedSize(int64(len("only in the oldest snapshot")))+storedSize(int64(len("only in the damaged snapshot"))) {
		t.Errorf("Prune = %+v; want %s damaged, nothing deleted, the 2 objects no readable snapshot uses kept", rep, bad.ID[:12])
	}
	if n := len(storeFiles(t, repo, "objects")); n != objects {
		t.Errorf("objects %d -> %d: prune deleted objects the damaged snapshot may use", objects, n)
	}
	if _, err := os.Stat(badFile); err != nil {
		t.Errorf("the damaged snapshot was removed: %v", err)
	}

	if err := os.Remove(badFile); err != nil {
		t.Fatal(err)
	}
	rep, err = r.Prune(ctx)
	if err != nil || len(rep.Damaged) != 0 || rep.Objects != 2 || rep.Kept != 0 {
		t.Fatalf("Prune once the damaged file is deleted = %+v, %v; want the 2 objects deleted", rep, err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if s, err := r.Restore(ctx, "latest", dst, nil); err != nil || s.ID != newest.ID {
		t.Fatalf("Restore latest = %v, %v", s, err)
	}
	sameTree(t, readTree(t, dst), want)
}
