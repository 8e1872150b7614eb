package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// counting is a remote store that counts the Stat requests it answers.
type counting struct {
	backend.Backend
	stats atomic.Int64
}

func (c *counting) Stat(ctx context.Context, d backend.Digest) (backend.Info, error) {
	c.stats.Add(1)
	return c.Backend.Stat(ctx, d)
}

// ListInfo passes the S3 store's listing with sizes through.
func (c *counting) ListInfo(ctx context.Context, fn func(backend.Info) error) error {
	return c.Backend.(InfoLister).ListInfo(ctx, fn)
}

// TestStatAsksTheRemoteOnce: a blob the cache put, or learned from the
// remote store's listing at start, is answered without a request; a
// deleted one is asked about again and is gone.
func TestStatAsksTheRemoteOnce(t *testing.T) {
	ctx := context.Background()
	remote := &counting{Backend: newS3(t)}
	first := New(remote, newLocal(t))
	a, b := put(t, first, "page a"), put(t, first, "page b")
	before := remote.stats.Load()
	for range 3 {
		if info, err := first.Stat(ctx, a); err != nil || info.Size != 6 {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
	}
	if n := remote.stats.Load() - before; n != 0 {
		t.Fatalf("Stat of a blob the cache put asked the remote store %d times", n)
	}

	second := New(remote, newLocal(t)) // a restarted server
	if err := second.Prime(ctx); err != nil {
		t.Fatal(err)
	}
	before = remote.stats.Load()
	for _, d := range []backend.Digest{a, b} {
		if info, err := second.Stat(ctx, d); err != nil || info.Size != 6 {
			t.Fatalf("Stat after Prime = %+v, %v", info, err)
		}
	}
	if n := remote.stats.Load() - before; n != 0 {
		t.Fatalf("Stat after Prime asked the remote store %d times", n)
	}
	if err := second.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Stat(ctx, a); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v", err)
	}
	if n := remote.stats.Load() - before; n == 0 {
		t.Fatal("Stat after Delete answered from memory")
	}
}
