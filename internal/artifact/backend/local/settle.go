package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Grace is how long a blob's file must have gone without a status change
// (its ctime: written, hard-linked in, or touched by a Put or Link that
// found it already stored) before garbage collection may delete it. A
// deploy stages a release's blobs into the server's store before it tells
// the server about them (the upload that then protects them); a blob
// staged within the last hour is never collected under it. It is git's
// answer to the same race (gc keeps loose objects younger than a grace
// period), kept on disk, so it holds across restarts and processes.
const Grace = time.Hour

var _ backend.Settler = (*Store)(nil)

// SetClock makes the store tell a file's age against now instead of the
// wall clock (tests age files without waiting). It is safe to call while
// the store is in use.
func (s *Store) SetClock(now func() time.Time) { s.now.Store(&now) }

func (s *Store) clock() time.Time {
	if now := s.now.Load(); now != nil {
		return (*now)()
	}
	return time.Now()
}

// ListSettled calls fn for every blob whose file has not changed status
// within Grace; see backend.Settler.
func (s *Store) ListSettled(ctx context.Context, fn func(backend.Digest) error) error {
	cutoff := s.clock().Add(-Grace)
	return s.List(ctx, func(d backend.Digest) error {
		if p, _ := s.blobPath(d); settledSince(p, cutoff) {
			return fn(d)
		}
		return nil
	})
}

// Settled reports whether d is stored and its file has not changed status
// within Grace.
func (s *Store) Settled(d backend.Digest) bool {
	p, err := s.blobPath(d)
	return err == nil && settledSince(p, s.clock().Add(-Grace))
}

// DeleteSettled deletes d unless its file changed status within Grace (a
// deploy staged it again since it was listed); see backend.Settler.
func (s *Store) DeleteSettled(ctx context.Context, d backend.Digest) (bool, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return false, err
	}
	if !settledSince(p, s.clock().Add(-Grace)) {
		return false, nil
	}
	if err := s.Delete(ctx, d); err != nil {
		return false, err
	}
	return true, nil
}

// settledSince reports whether the file at p exists and last changed
// status at or before cutoff.
func settledSince(p string, cutoff time.Time) bool {
	fi, err := os.Lstat(p)
	return err == nil && !statusChanged(fi).After(cutoff)
}

// present reports whether the blob file final exists and, if so, touches
// it: a chmod to its own read-only mode sets its status-change time to now
// without changing its bytes or its modification time (which a source file
// hard-linked into the store shares with the store). A Put or Link that
// finds its blob stored so restarts its grace period: the blob is being
// staged again, for an upload that is about to name it.
func present(final string) (bool, error) {
	err := os.Chmod(final, 0o444)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("touch %s: %w", final, err)
	}
	return true, nil
}
