package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Forget removes the snapshots taken before now-keepWithin, except the
// newest snapshot, which is always kept, and returns the removed ones. Their
// objects stay until Prune.
func (r *Repo) Forget(ctx context.Context, keepWithin time.Duration, now time.Time) ([]Summary, error) {
	if keepWithin < 0 {
		return nil, fmt.Errorf("forget snapshots: keep-within %s is negative", keepWithin)
	}
	done, err := r.begin(true)
	if err != nil {
		return nil, err
	}
	defer done()
	all, _, err := r.heads(ctx) // a damaged snapshot cannot be dated: it stays
	if err != nil {
		return nil, fmt.Errorf("forget snapshots: %w", err)
	}
	cutoff := now.Add(-keepWithin)
	var removed []Summary
	for i, s := range all {
		if i == 0 || !s.Time.Before(cutoff) {
			continue
		}
		if err := r.snapshots.Delete(ctx, backend.Digest(backend.Algorithm+":"+s.ID)); err != nil {
			return removed, fmt.Errorf("forget snapshot %s: %w", shortID(s.ID), err)
		}
		removed = append(removed, s)
	}
	return removed, nil
}

// PruneReport is the result of Prune.
type PruneReport struct {
	Objects int   // objects deleted
	Bytes   int64 // stored bytes freed
}

// Prune deletes the objects that no snapshot references, and temporary
// files that interrupted operations left behind. It reads every snapshot
// first and deletes nothing if one cannot be read.
func (r *Repo) Prune(ctx context.Context) (*PruneReport, error) {
	done, err := r.begin(true)
	if err != nil {
		return nil, err
	}
	defer done()
	used, err := r.referenced(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	rep, err := r.deleteUnused(ctx, used)
	if err != nil {
		return rep, fmt.Errorf("prune: %w", err)
	}
	return rep, r.sweep(ctx)
}

// referenced collects the objects of all snapshots.
func (r *Repo) referenced(ctx context.Context) (map[backend.Digest]bool, error) {
	all, err := r.loadAll(ctx, false)
	if err != nil {
		return nil, err
	}
	used := map[backend.Digest]bool{}
	for _, s := range all {
		for _, e := range s.Files {
			used[backend.Digest(e.Object)] = true
		}
	}
	return used, nil
}

// deleteUnused deletes every object not in used.
func (r *Repo) deleteUnused(ctx context.Context, used map[backend.Digest]bool) (*PruneReport, error) {
	objects, err := r.objectSet(ctx)
	if err != nil {
		return nil, err
	}
	rep := &PruneReport{}
	for d := range objects {
		if used[d] {
			continue
		}
		info, err := r.objects.Stat(ctx, d)
		if errors.Is(err, backend.ErrNotFound) {
			continue
		}
		if err == nil {
			err = r.objects.Delete(ctx, d)
		}
		if err != nil {
			return rep, err
		}
		rep.Objects++
		rep.Bytes += info.Size
	}
	return rep, nil
}
