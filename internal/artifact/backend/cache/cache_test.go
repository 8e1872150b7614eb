package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/backendtest"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/s3"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

func newLocal(t *testing.T) *local.Store {
	t.Helper()
	l, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newS3 is a blob store in a bucket of the S3 API on 127.0.0.1 (gofakes3).
func newS3(t *testing.T) *s3.Store {
	t.Helper()
	r, err := s3.New(s3.Config{Config: s3conn.Config{URL: "s3://blobs/p", Endpoint: testkit.S3(t, "blobs"),
		AccessKey: "AKIDTEST", SecretKey: "cache-test-secret"}, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestContract: the cache in front of S3 is a whole backend, Pather
// included.
func TestContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return New(newS3(t), newLocal(t)) })
}

func put(t *testing.T, b backend.Backend, s string) backend.Digest {
	t.Helper()
	d := backend.Sum([]byte(s))
	if err := b.Put(context.Background(), d, strings.NewReader(s), int64(len(s))); err != nil {
		t.Fatal(err)
	}
	return d
}

func wantPath(t *testing.T, c *Store, d backend.Digest, body string) {
	t.Helper()
	p, err := c.Path(d)
	if err != nil {
		t.Fatalf("Path(%s): %v", d, err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != body {
		t.Fatalf("cached file = %q, %v; want %q", got, err, body)
	}
}

// TestFetchFillsAnEmptyCache: a second cache on the same bucket (a server
// restarted with an empty cache dir) has no file until Fetch copies it.
func TestFetchFillsAnEmptyCache(t *testing.T) {
	ctx := context.Background()
	remote := newS3(t)
	first := New(remote, newLocal(t))
	a, b := put(t, first, "page a"), put(t, first, "page b")
	second := New(remote, newLocal(t))
	if _, err := second.Path(a); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Path before Fetch = %v, want ErrNotFound", err)
	}
	if err := second.Fetch(ctx, []backend.Digest{a, b, a}); err != nil {
		t.Fatal(err)
	}
	wantPath(t, second, a, "page a")
	wantPath(t, second, b, "page b")
	if err := second.Fetch(ctx, []backend.Digest{backend.Sum([]byte("absent"))}); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Fetch of a missing blob = %v", err)
	}
	if err := second.Fetch(ctx, []backend.Digest{"sha256:x"}); !errors.Is(err, backend.ErrInvalidDigest) {
		t.Fatalf("Fetch of a bad digest = %v", err)
	}
}

// lying is a remote store whose Get returns other bytes than were put, and
// whose Put can be made to fail.
type lying struct {
	backend.Backend
	failPut bool
}

func (l *lying) Get(context.Context, backend.Digest) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("tampered")), nil
}

func (l *lying) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	if l.failPut {
		return errors.New("remote refused")
	}
	return l.Backend.Put(ctx, d, r, size)
}

// TestFetchVerifies: bytes that do not hash to the digest never become a
// cached file, and no temporary file stays behind.
func TestFetchVerifies(t *testing.T) {
	remote := &lying{Backend: newLocal(t)}
	d := put(t, remote, "the real page")
	l := newLocal(t)
	c := New(remote, l)
	if err := c.Fetch(context.Background(), []backend.Digest{d}); !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("Fetch of tampered bytes = %v", err)
	}
	if _, err := c.Path(d); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("tampered blob cached: %v", err)
	}
	assertNoFiles(t, l.Root())
}

func assertNoFiles(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// TestFailedRemotePutCachesNothing: a Put the remote store refuses leaves
// no local file either.
func TestFailedRemotePutCachesNothing(t *testing.T) {
	l := newLocal(t)
	c := New(&lying{Backend: newLocal(t), failPut: true}, l)
	d := backend.Sum([]byte("x"))
	if err := c.Put(context.Background(), d, strings.NewReader("x"), 1); err == nil {
		t.Fatal("Put succeeded")
	}
	assertNoFiles(t, l.Root())
}

func listAll(t *testing.T, c *Store) []backend.Digest {
	t.Helper()
	var got []backend.Digest
	if err := c.List(context.Background(), func(d backend.Digest) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestListAndDeleteCoverLocalStrays: a local file without a remote copy
// (a crash between the two writes, a staged blob never uploaded) is listed
// once its file has gone unchanged for StrayAge, and then deleted, so
// garbage collection frees it; a younger one (a blob staged for an upload
// about to start) is not.
func TestListAndDeleteCoverLocalStrays(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	c := New(newS3(t), l)
	kept := put(t, c, "kept")
	stray := put(t, l, "stray")
	now := time.Now() // the files changed status before this
	l.SetClock(func() time.Time { return now })
	if got := listAll(t, c); len(got) != 1 || got[0] != kept {
		t.Fatalf("List = %v, want only the blob: the stray was just staged", got)
	}
	now = now.Add(StrayAge - time.Second)
	if got := listAll(t, c); len(got) != 1 {
		t.Fatalf("List = %v before StrayAge", got)
	}
	now = now.Add(time.Second)
	if got := listAll(t, c); len(got) != 2 {
		t.Fatalf("List = %v, want the blob and the stray after StrayAge", got)
	}
	for _, d := range []backend.Digest{stray, kept} {
		if err := c.Delete(ctx, d); err != nil {
			t.Fatalf("Delete(%s): %v", d, err)
		}
		if _, err := c.Path(d); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("deleted blob still cached: %v", err)
		}
	}
	if _, err := c.Stat(ctx, kept); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("deleted blob still in the bucket: %v", err)
	}
	if err := c.Delete(ctx, kept); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("second Delete = %v", err)
	}
}

// TestGetPrefersTheCache: a cached blob is read from disk; an uncached one
// from the remote store.
func TestGetPrefersTheCache(t *testing.T) {
	ctx := context.Background()
	remote := &lying{Backend: newLocal(t)}
	c := New(remote, newLocal(t))
	d := put(t, c, "cached")
	rc, err := c.Get(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, []byte("cached")) {
		t.Fatalf("Get = %q, want the cached bytes", got)
	}
	other := put(t, remote.Backend, "remote only")
	rc, err = c.Get(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if string(got) != "tampered" {
		t.Fatalf("Get of an uncached blob = %q, want the remote's bytes", got)
	}
}
