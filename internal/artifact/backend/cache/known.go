package cache

import (
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// The cache remembers which blobs the remote store holds, with their sizes:
// an upload asks about every blob of a release (what is missing, then
// whether all arrived), and one HEAD request per file of a 20,000-file site
// would cost minutes against a remote store. What it remembers comes from
// the remote store itself (a Stat, a Put or a listing) and is forgotten on
// Delete; it goes stale only if something else deletes from the remote
// store: another replica sharing the prefix (its garbage collection), after
// which Relearn drops what is gone.

// InfoLister is implemented by remote stores whose listing carries each
// blob's size (package s3).
type InfoLister interface {
	ListInfo(ctx context.Context, fn func(backend.Info) error) error
}

func (s *Store) remember(d backend.Digest, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known[d] = size
}

func (s *Store) forget(d backend.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, d)
}

func (s *Store) lookup(d backend.Digest) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	size, ok := s.known[d]
	return size, ok
}

// Prime learns every blob the remote store holds from one listing (when it
// is an InfoLister), so the uploads after a start ask the remote store only
// about blobs it lacks. Call it before anything deletes.
func (s *Store) Prime(ctx context.Context) error {
	il, ok := s.remote.(InfoLister)
	if !ok {
		return nil
	}
	err := il.ListInfo(ctx, func(i backend.Info) error {
		s.remember(i.Digest, i.Size)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache: learn what the remote store holds: %w", err)
	}
	return nil
}

// Relearn forgets the blobs a new listing of the remote store lacks:
// another server sharing the store (a replica's garbage collection)
// deleted them, and an upload must not be told they are present. It only
// forgets: a blob stored during the listing and left out of it is asked
// about again at its next Stat.
func (s *Store) Relearn(ctx context.Context) error {
	listed := map[backend.Digest]bool{}
	err := s.remote.List(ctx, func(d backend.Digest) error {
		listed[d] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache: list what the remote store holds: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.known {
		if !listed[d] {
			delete(s.known, d)
		}
	}
	return nil
}
