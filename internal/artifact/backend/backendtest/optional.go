package backendtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

func testPather(t *testing.T, b backend.Backend) {
	p, ok := b.(backend.Pather)
	if !ok {
		t.Skip("backend does not implement backend.Pather")
	}
	x := newBlob("served by sendfile")
	put(t, b, x)
	path, err := p.Path(x.d)
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, x.data) {
		t.Fatalf("file at Path = %q, %v; want %q", got, err, x.data)
	}
	_, err = p.Path(newBlob("absent").d)
	wantErr(t, err, backend.ErrNotFound)
	_, err = p.Path("sha256:nope")
	wantErr(t, err, backend.ErrInvalidDigest)
}

func batcher(t *testing.T, b backend.Backend) backend.Batch {
	bb, ok := b.(backend.Batcher)
	if !ok {
		t.Skip("backend does not implement backend.Batcher")
	}
	return bb.Batch()
}

func batchPut(t *testing.T, bt backend.Batch, x blob) {
	t.Helper()
	if err := bt.Put(context.Background(), x.d, bytes.NewReader(x.data), int64(len(x.data))); err != nil {
		t.Fatalf("batch Put: %v", err)
	}
}

func testBatchCommit(t *testing.T, b backend.Backend) {
	bt := batcher(t, b)
	x, y, old := newBlob("batch one"), newBlob("batch two"), newBlob("stored before")
	put(t, b, old)
	batchPut(t, bt, x)
	batchPut(t, bt, y)
	batchPut(t, bt, x)
	batchPut(t, bt, old)
	wantAbsent(t, b, x.d)
	if err := bt.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertList(t, b, []backend.Digest{x.d, y.d, old.d})
	if got := mustGet(t, b, y.d); !bytes.Equal(got, y.data) {
		t.Fatalf("Get after commit = %q", got)
	}
	if err := bt.Commit(context.Background()); err == nil {
		t.Fatal("second Commit succeeded, want an error")
	}
}

func testBatchAbort(t *testing.T, b backend.Backend) {
	bt := batcher(t, b)
	batchPut(t, bt, newBlob("aborted"))
	if err := bt.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	assertList(t, b, nil)
}

func testBatchBad(t *testing.T, b backend.Backend) {
	bt := batcher(t, b)
	x := newBlob("claimed")
	err := bt.Put(context.Background(), x.d, bytes.NewReader([]byte("other")), 5)
	if !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("batch Put of wrong bytes = %v, want ErrDigestMismatch", err)
	}
	wantErr(t, bt.Put(context.Background(), "sha256:x", bytes.NewReader(nil), 0), backend.ErrInvalidDigest)
	if err := bt.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertList(t, b, nil)
}

func linker(t *testing.T, b backend.Backend) backend.Linker {
	l, ok := b.(backend.Linker)
	if !ok {
		t.Skip("backend does not implement backend.Linker")
	}
	return l
}

func writeTemp(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testLink(t *testing.T, b backend.Backend) {
	l := linker(t, b)
	x := newBlob("linked, not copied")
	err := l.Link(context.Background(), x.d, writeTemp(t, "linked, not copied"))
	if errors.Is(err, backend.ErrCannotLink) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get after Link = %q", got)
	}
	y := newBlob("claimed")
	wantErr(t, l.Link(context.Background(), y.d, writeTemp(t, "other")), backend.ErrDigestMismatch)
	wantAbsent(t, b, y.d)
	if err := l.Link(context.Background(), newBlob("gone").d, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("Link of a missing file succeeded")
	}
	assertList(t, b, []backend.Digest{x.d})
}

func testBatchLink(t *testing.T, b backend.Backend) {
	bt := batcher(t, b)
	x := newBlob("batch link")
	err := bt.Link(context.Background(), x.d, writeTemp(t, "batch link"))
	if errors.Is(err, backend.ErrCannotLink) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("batch Link: %v", err)
	}
	wantAbsent(t, b, x.d)
	if err := bt.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get after batch Link = %q", got)
	}
}

func testFetch(t *testing.T, b backend.Backend) {
	f, ok := b.(backend.Fetcher)
	if !ok {
		t.Skip("backend does not implement backend.Fetcher")
	}
	p, ok := b.(backend.Pather)
	if !ok {
		t.Fatal("a backend.Fetcher must be a backend.Pather: Fetch makes the files Path finds")
	}
	x, y := newBlob("fetched"), newBlob("fetched too")
	put(t, b, x)
	put(t, b, y)
	if err := f.Fetch(context.Background(), []backend.Digest{x.d, y.d, x.d}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for _, z := range []blob{x, y} {
		path, err := p.Path(z.d)
		if err != nil {
			t.Fatalf("Path after Fetch: %v", err)
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, z.data) {
			t.Fatalf("file after Fetch = %q, %v", got, err)
		}
	}
	wantErr(t, f.Fetch(context.Background(), []backend.Digest{newBlob("absent").d}), backend.ErrNotFound)
	wantErr(t, f.Fetch(context.Background(), []backend.Digest{"sha256:nope"}), backend.ErrInvalidDigest)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	z := newBlob("not fetched: cancelled")
	put(t, b, z)
	if err := f.Fetch(ctx, []backend.Digest{z.d}); err == nil {
		if _, perr := p.Path(z.d); perr != nil {
			t.Fatalf("cancelled Fetch returned nil but Path = %v", perr)
		}
	}
}
