package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
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
