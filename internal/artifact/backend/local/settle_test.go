package local

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

func settledList(t *testing.T, s *Store) []backend.Digest {
	t.Helper()
	var got []backend.Digest
	if err := s.ListSettled(context.Background(), func(d backend.Digest) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestGraceByStatusChange: ListSettled and DeleteSettled leave a blob
// whose file changed status within Grace, whether it was put, linked from
// a source file (whose own ctime was old) or put again, and take it after.
func TestGraceByStatusChange(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := filepath.Join(t.TempDir(), "app.js")
	os.WriteFile(src, []byte("linked"), 0o644)
	put := backend.Sum([]byte("put"))
	s.Put(ctx, put, bytes.NewReader([]byte("put")), 3)
	linked := backend.Sum([]byte("linked"))
	if err := s.Link(ctx, linked, src); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	if got := settledList(t, s); len(got) != 0 {
		t.Fatalf("ListSettled = %v right after the writes", got)
	}
	if gone, err := s.DeleteSettled(ctx, put); gone || err != nil {
		t.Fatalf("DeleteSettled of a fresh blob = %v, %v", gone, err)
	}
	now = now.Add(Grace)
	if got := settledList(t, s); len(got) != 2 {
		t.Fatalf("ListSettled = %v after Grace, want both", got)
	}
	if gone, err := s.DeleteSettled(ctx, put); !gone || err != nil {
		t.Fatalf("DeleteSettled of an old blob = %v, %v", gone, err)
	}
	if _, err := s.Stat(ctx, put); err == nil {
		t.Fatal("DeleteSettled left the blob")
	}
	if gone, err := s.DeleteSettled(ctx, put); gone || err != nil {
		t.Fatalf("DeleteSettled of a missing blob = %v, %v", gone, err)
	}
}

// TestLinkTouchesStoredBlob: a Link (or a batch's Put) that finds its blob
// stored restarts its grace period without changing the file's bytes or
// modification time (a source file shares them).
func TestLinkTouchesStoredBlob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := filepath.Join(t.TempDir(), "index.html")
	os.WriteFile(src, []byte("page"), 0o644)
	d := backend.Sum([]byte("page"))
	if err := s.Link(ctx, d, src); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(src)
	end := time.Now().Add(Grace)
	s.SetClock(func() time.Time { return end })
	for deadline := time.Now().Add(10 * time.Second); s.Settled(d); { // ctime moves in clock ticks
		if time.Now().After(deadline) {
			t.Fatal("linking a stored blob again did not restart its grace period")
		}
		b := s.Batch()
		if err := b.Link(ctx, d, src); err != nil {
			t.Fatal(err)
		}
		b.Commit(ctx)
	}
	after, _ := os.Stat(src)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the source file's mtime moved: %v -> %v", before.ModTime(), after.ModTime())
	}
}
