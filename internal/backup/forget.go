package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Forget removes the snapshots server took before now-keepWithin, except
// its newest, which is always kept, and returns the removed ones. Their
// objects stay until Prune. Other servers' snapshots are theirs to age
// out: a second server on the repository (a restore drill, a standby)
// must not delete the production server's backups.
//
// Snapshots taken before servers were recorded (Server "") are never
// removed: nothing tells which server took them, and deleting another
// server's could leave it without a backup, while keeping them only costs
// space until they are deleted by hand (docs/backup.md#several-servers-on-one-repository).
func (r *Repo) Forget(ctx context.Context, server string, keepWithin time.Duration, now time.Time) ([]Summary, error) {
	if keepWithin < 0 {
		return nil, fmt.Errorf("forget snapshots: keep-within %s is negative", keepWithin)
	}
	if server == "" {
		return nil, errors.New("forget snapshots: no server identity given")
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
	newest := true
	for _, s := range all {
		if s.Server != server {
			continue
		}
		if newest || !s.Time.Before(cutoff) {
			newest = false
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
	// Damaged names the snapshots that cannot be read (full ids, sorted):
	// which objects they use is unknown, so while one is in the
	// repository Prune deletes no object, and Kept and KeptBytes count
	// those no readable snapshot uses, which it would have deleted.
	Damaged   []string
	Kept      int
	KeptBytes int64
}

// Prune deletes the objects that no snapshot references, and temporary
// files that interrupted operations left behind. It reads every snapshot
// first. A snapshot that cannot be read (ErrCorrupt) is not removed, and
// since the objects it uses are unknown, no object is deleted while it is
// there: Prune then returns a report naming it (Damaged) and no error, so
// a backup whose retention prunes is not failed by an older snapshot the
// backup disk damaged. Other errors (I/O) fail before anything is deleted.
func (r *Repo) Prune(ctx context.Context) (*PruneReport, error) {
	done, err := r.begin(true)
	if err != nil {
		return nil, err
	}
	defer done()
	used, damaged, err := r.referenced(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	rep, err := r.deleteUnused(ctx, used, len(damaged) > 0)
	if err != nil {
		return rep, fmt.Errorf("prune: %w", err)
	}
	rep.Damaged = damaged
	return rep, r.sweep(ctx)
}

// referenced collects the objects of every snapshot that reads back, and
// the ids of those that do not (ErrCorrupt), sorted.
func (r *Repo) referenced(ctx context.Context) (map[backend.Digest]bool, []string, error) {
	all, damaged, err := readEach(ctx, r, r.loadSnapshot)
	if err != nil {
		return nil, nil, err
	}
	used := map[backend.Digest]bool{}
	for _, s := range all {
		for _, e := range s.Files {
			used[backend.Digest(e.Object)] = true
		}
	}
	return used, damaged, nil
}

// deleteUnused deletes every object not in used; with keep, it deletes
// none and counts them as Kept instead.
func (r *Repo) deleteUnused(ctx context.Context, used map[backend.Digest]bool, keep bool) (*PruneReport, error) {
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
		if err == nil && keep {
			rep.Kept++
			rep.KeptBytes += info.Size
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
