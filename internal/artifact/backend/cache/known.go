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
// store, which a server's claimed prefix rules out.

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
