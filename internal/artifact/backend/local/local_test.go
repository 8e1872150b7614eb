package local

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/backendtest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newStore(t) })
}

func TestLayout(t *testing.T) {
	s := newStore(t)
	data := []byte("layout")
	d := backend.Sum(data)
	if err := s.Put(context.Background(), d, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(s.Root(), "sha256", d.Hex()[:2], d.Hex())
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatalf("blob not at %s: %v", want, err)
	}
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("blob mode %v is writable, want read-only", fi.Mode())
	}
}

// A crash mid-write leaves a temporary file: it is never listed or served
// under the blob's name, and Sweep removes it once old enough.
func TestCrashLeftoversAndSweep(t *testing.T) {
	s := newStore(t)
	data := []byte("half written")
	d := backend.Sum(data)
	shard := filepath.Join(s.Root(), "sha256", d.Hex()[:2])
	if err := os.MkdirAll(shard, 0o755); err != nil {
		t.Fatal(err)
	}
	oldTmp := filepath.Join(shard, tmpPrefix+d.Hex()+"-123")
	newTmp := filepath.Join(shard, tmpPrefix+d.Hex()+"-456")
	for _, p := range []string{oldTmp, newTmp} {
		if err := os.WriteFile(p, data[:4], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(oldTmp, past, past); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(context.Background(), d); err == nil {
		t.Fatal("half-written blob is visible")
	}
	n := 0
	if err := s.List(context.Background(), func(backend.Digest) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("List saw %d blobs (%v), want 0", n, err)
	}
	removed, err := s.Sweep(context.Background(), time.Hour)
	if err != nil || removed != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 removed", removed, err)
	}
	if _, err := os.Stat(newTmp); err != nil {
		t.Errorf("Sweep removed a fresh temp file: %v", err)
	}
	if _, err := os.Stat(oldTmp); !os.IsNotExist(err) {
		t.Errorf("old temp file still there: %v", err)
	}
}

func TestFailedPutLeavesNoTemp(t *testing.T) {
	s := newStore(t)
	d := backend.Sum([]byte("x"))
	_ = s.Put(context.Background(), d, strings.NewReader("y"), 1)
	var left []string
	filepath.WalkDir(s.Root(), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("failed Put left files: %v", left)
	}
}

func TestNewOnFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); err == nil {
		t.Fatal("New on a regular file succeeded")
	}
}

// A batch larger than maxFsyncFiles takes the one-syncfs path.
func TestBigBatch(t *testing.T) {
	s := newStore(t)
	bt := s.Batch()
	n := maxFsyncFiles + 10
	for i := range n {
		data := []byte(strings.Repeat("x", i))
		if err := bt.Put(context.Background(), backend.Sum(data), bytes.NewReader(data), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := 0
	s.List(context.Background(), func(backend.Digest) error { got++; return nil })
	if got != n {
		t.Fatalf("listed %d blobs, want %d", got, n)
	}
}
