// Package cache puts a local-disk copy in front of a remote blob store (S3):
// the remote store is the truth, and the local one holds the blobs the
// server serves, as plain files the edge sends with sendfile.
//
//   - Put writes the blob to the local store first (checked against its
//     digest, temp file, fsync, rename), then to the remote store from that
//     file; a failed remote Put removes the local copy it made.
//   - Stat answers what the remote store holds, from what the cache learned
//     of it (a listing at start, its own Puts and Stats: known.go) or by
//     asking it; Get reads the local file when there is one, else the
//     remote blob.
//   - Fetch (backend.Fetcher) copies remote blobs into the local store,
//     verified, before a release that needs them is activated; Path
//     (backend.Pather) finds only local files, so the edge never waits on
//     the remote store.
//   - List names every blob of either store and Delete removes a blob from
//     both, so garbage collection also empties the cache of what no release
//     needs. A local file without a remote copy (a crash between the two
//     writes, a blob a build staged and never uploaded) is listed only once
//     it is past the local store's grace period (local.Grace): a blob
//     staged for an upload about to start is not collected under it.
//
// The local store can be emptied at any time while the server is stopped:
// the server fetches what its active releases need again at start.
package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// parallel is how many blobs Fetch downloads at once: remote latency, not
// bandwidth, bounds a release of many small files.
const parallel = 8

// Store is a remote backend with a local cache. It is safe for concurrent
// use.
type Store struct {
	remote backend.Backend
	local  *local.Store
	mu     sync.Mutex
	known  map[backend.Digest]int64 // blobs the remote store holds (known.go)
}

var (
	_ backend.Backend = (*Store)(nil)
	_ backend.Pather  = (*Store)(nil)
	_ backend.Fetcher = (*Store)(nil)
)

// New returns remote with l as its local cache.
func New(remote backend.Backend, l *local.Store) *Store {
	return &Store{remote: remote, local: l, known: map[backend.Digest]int64{}}
}

// Remote is the store the cache is in front of.
func (s *Store) Remote() backend.Backend { return s.remote }

// Local is the cache's local store.
func (s *Store) Local() *local.Store { return s.local }

// Put stores r under d in both stores; see the package documentation.
func (s *Store) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	if _, err := s.Stat(ctx, d); err == nil {
		return nil
	} else if !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	_, statErr := s.local.Stat(ctx, d)
	had := statErr == nil
	if err := s.local.Put(ctx, d, r, size); err != nil {
		return err
	}
	err := s.putRemote(ctx, d, size)
	if err != nil && !had {
		s.local.Delete(context.WithoutCancel(ctx), d)
	}
	return err
}

// putRemote sends the local file of d to the remote store.
func (s *Store) putRemote(ctx context.Context, d backend.Digest, size int64) error {
	p, err := s.local.Path(d)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("put %s: %w", d, err)
	}
	defer f.Close()
	if err := s.remote.Put(ctx, d, f, size); err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil {
		s.remember(d, fi.Size())
	}
	return nil
}

// Get reads the local file of d, else the remote blob.
func (s *Store) Get(ctx context.Context, d backend.Digest) (io.ReadCloser, error) {
	rc, err := s.local.Get(ctx, d)
	if errors.Is(err, backend.ErrNotFound) {
		return s.remote.Get(ctx, d)
	}
	return rc, err
}

// Stat answers what the remote store holds: from what the cache knows of
// it (known.go), else by asking it.
func (s *Store) Stat(ctx context.Context, d backend.Digest) (backend.Info, error) {
	if err := d.Validate(); err != nil {
		return backend.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return backend.Info{}, err
	}
	if size, ok := s.lookup(d); ok {
		return backend.Info{Digest: d, Size: size}, nil
	}
	info, err := s.remote.Stat(ctx, d)
	if err == nil {
		s.remember(d, info.Size)
	}
	return info, err
}

// Path returns the local file of d, or ErrNotFound when it is not cached.
func (s *Store) Path(d backend.Digest) (string, error) { return s.local.Path(d) }

// List calls fn for every blob of the remote store, then for every local
// file the remote store lacks that is past its grace period (strays.go).
func (s *Store) List(ctx context.Context, fn func(backend.Digest) error) error {
	seen := map[backend.Digest]bool{}
	err := s.remote.List(ctx, func(d backend.Digest) error {
		seen[d] = true
		return fn(d)
	})
	if err != nil {
		return err
	}
	var old []backend.Digest
	err = s.local.List(ctx, func(d backend.Digest) error {
		if !seen[d] {
			old = append(old, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range s.agedStrays(old) {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes d from both stores; it is ErrNotFound only when neither
// held it.
func (s *Store) Delete(ctx context.Context, d backend.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	s.forget(d)
	rerr := s.remote.Delete(ctx, d)
	if rerr != nil && !errors.Is(rerr, backend.ErrNotFound) {
		return rerr
	}
	lerr := s.local.Delete(ctx, d)
	if lerr != nil && !errors.Is(lerr, backend.ErrNotFound) {
		return lerr
	}
	if rerr != nil && lerr != nil {
		return rerr
	}
	return nil
}

// Fetch copies the blobs of ds that are not local from the remote store,
// verified against their digests, in one local batch (one filesystem sync
// for all of them). On error, none of the blobs it downloaded is visible.
func (s *Store) Fetch(ctx context.Context, ds []backend.Digest) error {
	var todo []backend.Digest
	seen := map[backend.Digest]bool{}
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		if _, err := s.local.Path(d); err != nil {
			todo = append(todo, d)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	b := s.local.Batch()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, d := range todo {
		g.Go(func() error { return s.fetchOne(gctx, b, d) })
	}
	if err := g.Wait(); err != nil {
		b.Abort()
		return err
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}

func (s *Store) fetchOne(ctx context.Context, b backend.Batch, d backend.Digest) error {
	rc, err := s.remote.Get(ctx, d)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer rc.Close()
	if err := b.Put(ctx, d, rc, -1); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}
