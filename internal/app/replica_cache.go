package app

import (
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// The leader's garbage collection deletes blobs from the bucket and from
// its own cache. Every other replica trims its cache itself, of the blobs
// no recorded artifact, open upload or release its edge serves names, and
// only those settled for local.Grace (a blob fetched or staged a moment
// ago stays).

// trimCache trims this replica's blob cache, unless it leads (its GC
// does). It holds the edge's lock: the edge switches to no release
// meanwhile.
func (a *App) trimCache(ctx context.Context) {
	if a.Leading() {
		return
	}
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	keep, err := a.namedBlobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: trim the blob cache", "err", err)
		}
		return
	}
	for _, ds := range a.edge.blobs {
		for _, d := range ds {
			keep[d] = true
		}
	}
	var doomed []backend.Digest
	err = a.Blobs.ListSettled(ctx, func(d backend.Digest) error {
		if !keep[d] {
			doomed = append(doomed, d)
		}
		return nil
	})
	n := 0
	for _, d := range doomed {
		if ok, derr := a.Blobs.DeleteSettled(ctx, d); derr != nil {
			err = derr
			break
		} else if ok {
			n++
		}
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("replicas: trim the blob cache", "err", err)
	}
	if n > 0 {
		a.log.Info("replicas: trimmed the blob cache", "blobs", n)
	}
}

// namedBlobs is every blob a recorded artifact or an open upload names.
func (a *App) namedBlobs(ctx context.Context) (map[backend.Digest]bool, error) {
	rows, err := a.DB.QueryContext(ctx, `SELECT manifest FROM artifacts UNION ALL SELECT manifest FROM uploads`)
	if err != nil {
		return nil, fmt.Errorf("named blobs: %w", err)
	}
	defer rows.Close()
	keep := map[backend.Digest]bool{}
	for rows.Next() {
		var canon []byte
		if err := rows.Scan(&canon); err != nil {
			return nil, err
		}
		m, err := artifact.Decode(canon)
		if err != nil {
			return nil, fmt.Errorf("a stored manifest does not decode, not trimming: %w", err)
		}
		for _, b := range m.Blobs() {
			keep[b.Digest] = true
		}
	}
	return keep, rows.Err()
}
