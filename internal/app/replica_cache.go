package app

import (
	"context"

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
	keep, err := a.Deploy.NamedBlobs(ctx)
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
