package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestListReadsHeadsOnly: listing decrypts a snapshot only up to its file
// list. With the end of a large snapshot damaged, List still shows it
// (its head is intact and authenticated) while loading it fails.
func TestListReadsHeadsOnly(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	for i := range 400 { // a file list well past the first 64 KiB chunk
		writeFile(t, data, fmt.Sprintf("runs/%03d/log", i), []byte{byte(i)}, 0o600)
	}
	s := create(t, r, data, time.Now())
	objs := storeFiles(t, repo, "snapshots")
	if len(objs) != 1 {
		t.Fatalf("%d snapshot objects", len(objs))
	}
	os.Chmod(objs[0], 0o600)
	b, err := os.ReadFile(objs[0])
	if err != nil || len(b) < chunkSize+1024 { // two chunks at least
		t.Fatalf("snapshot object of %d bytes: %v", len(b), err)
	}
	b[len(b)-40] ^= 1
	if err := os.WriteFile(objs[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := r.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s.ID || list[0].Files != len(s.Files) || list[0].Size != s.Size {
		t.Fatalf("List = %+v, %v; want the head of %s (%d files)", list, err, s.ID, len(s.Files))
	}
	if _, err := r.Load(ctx, s.ID); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of the damaged snapshot: %v, want ErrCorrupt", err)
	}
}

// TestDamagedSnapshotHidesNoOther: one snapshot whose head is damaged (a
// bit flipped on the backup disk) made List fail, so the snapshots could
// not even be seen, and 'latest' fail to restore although the newest is
// sound; retention failed too, so every backup after it was reported as
// failed. List returns the others with a DamagedError naming it, latest is
// the newest sound one, and retention ages out the others and keeps it.
func TestDamagedSnapshotHidesNoOther(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	data, want := dataDir(t)
	base := time.Now().Add(-time.Hour)
	var ids []string
	for i := range 3 {
		ids = append(ids, create(t, r, data, base.Add(time.Duration(i)*time.Minute)).ID)
	}
	bad := ids[0]
	flipByte(t, filepath.Join(repo, "snapshots", "sha256", bad[:2], bad), headerSize+3)

	list, err := r.List(ctx)
	var d *DamagedError
	if !errors.As(err, &d) || !errors.Is(err, ErrCorrupt) || len(d.IDs) != 1 || d.IDs[0] != bad || !strings.Contains(err.Error(), bad[:8]) {
		t.Fatalf("List error = %v, want a DamagedError naming %s", err, bad[:8])
	}
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
		t.Fatalf("List = %+v, want the two sound snapshots, newest first", list)
	}
	to := filepath.Join(t.TempDir(), "restored")
	if s, err := r.Restore(ctx, "latest", to, nil); err != nil || s.ID != ids[2] {
		t.Fatalf("Restore latest = %v, %v; want %s", s, err, ids[2][:12])
	}
	sameTree(t, readTree(t, to), want)
	gone, err := r.Forget(ctx, testServer, time.Minute, base.Add(3*time.Minute))
	if err != nil || len(gone) != 1 || gone[0].ID != ids[1] {
		t.Fatalf("Forget = %+v, %v; want %s forgotten", gone, err, ids[1][:12])
	}
	if _, err := os.Stat(filepath.Join(repo, "snapshots", "sha256", bad[:2], bad)); err != nil {
		t.Errorf("the damaged snapshot, which cannot be dated, was removed: %v", err)
	}
}
