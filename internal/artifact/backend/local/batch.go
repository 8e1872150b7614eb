package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Batch returns a batch whose blobs are written without a per-blob fsync;
// Commit syncs the filesystem once, renames every blob into place and syncs
// again. This is what makes storing 20,000 files cheap on a slow disk while
// keeping the rule that a visible blob is always complete: no blob is renamed
// before its bytes are on disk.
func (s *Store) Batch() backend.Batch {
	return &batch{s: s, pending: map[backend.Digest]string{}}
}

type batch struct {
	s       *Store
	mu      sync.Mutex
	pending map[backend.Digest]string // digest -> temp file
	done    bool
}

// Put writes d to a temporary file; it becomes visible at Commit.
func (b *batch) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	final, err := b.s.blobPath(d)
	if err != nil {
		return err
	}
	if b.has(d) {
		return nil
	}
	if ok, err := present(final); ok || err != nil {
		return err
	}
	tmp, err := b.s.writeTemp(ctx, final, d, r, size, false)
	if err != nil {
		return err
	}
	return b.add(d, tmp)
}

// add records a checked temporary file, dropping it if d is already pending.
func (b *batch) add(d backend.Digest, tmp string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.pending[d]; dup || b.done {
		os.Remove(tmp)
		if b.done {
			return errors.New("put " + string(d) + ": batch already committed or aborted")
		}
		return nil
	}
	b.pending[d] = tmp
	return nil
}

// Link hard-links path into the batch; it becomes visible at Commit.
func (b *batch) Link(ctx context.Context, d backend.Digest, path string) error {
	final, err := b.s.blobPath(d)
	if err != nil {
		return err
	}
	if b.has(d) {
		return nil
	}
	if ok, err := present(final); ok || err != nil {
		return err
	}
	tmp, err := b.s.linkTemp(ctx, final, d, path, false)
	if err != nil {
		return err
	}
	return b.add(d, tmp)
}

func (b *batch) has(d backend.Digest) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.pending[d]
	return ok
}

// Commit makes all blobs durable and visible.
func (b *batch) Commit(ctx context.Context) error {
	pending, err := b.finish()
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	if err := syncTemps(b.s.root, pending); err != nil {
		removeAll(pending)
		return fmt.Errorf("commit blobs: %w", err)
	}
	dirs := map[string]bool{}
	for d, tmp := range pending {
		if err := ctx.Err(); err != nil {
			removeAll(pending)
			return err
		}
		final, _ := b.s.blobPath(d)
		if err := os.Rename(tmp, final); err != nil {
			removeAll(pending)
			return fmt.Errorf("commit %s: %w", d, err)
		}
		dirs[filepath.Dir(final)] = true
	}
	return syncDirs(b.s.root, dirs)
}

// Abort removes the batch's temporary files.
func (b *batch) Abort() error {
	pending, err := b.finish()
	if err != nil {
		return err
	}
	removeAll(pending)
	return nil
}

func (b *batch) finish() (map[backend.Digest]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil, errors.New("blob batch already committed or aborted")
	}
	b.done = true
	p := b.pending
	b.pending = nil
	return p, nil
}

// removeAll deletes temporary files that are still there (renamed ones are
// gone already, so the errors are ignored on purpose).
func removeAll(pending map[backend.Digest]string) {
	for _, tmp := range pending {
		os.Remove(tmp)
	}
}
