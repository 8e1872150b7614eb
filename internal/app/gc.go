package app

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// kickGC asks for a collection soon (one is pending at most).
func (a *App) kickGC() {
	select {
	case a.gcKick <- struct{}{}:
	default: // one is pending already
	}
}

// startGC applies retention and collects unreferenced blobs in the
// background: shortly after activations (coalesced: a burst of deploys
// triggers one collection) and every GCEvery otherwise. GC holds the
// deploy domain's lock only while it deletes, and never touches a blob a
// retained deployment or an open upload needs.
func (a *App) startGC() {
	kick := make(chan struct{}, 1)
	a.gcKick = kick
	a.Deploy.OnActivate(func(deploy.Release) { a.kickGC() })
	every := a.opts.GCEvery
	if every <= 0 {
		every = time.Hour
	}
	a.singleton(func(ctx context.Context) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
			case <-t.C:
			}
			if _, err := a.Deploy.CollectGarbage(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("deploy: garbage collection failed", "err", err)
			}
		}
	})
}
