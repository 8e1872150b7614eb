package app

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// GCActor is the audit log's actor of the server's own collections
// (deploy.gc), as phoenix:retention is of its run pruning; 'phoenix gc'
// records the user who asked.
const GCActor = "phoenix:gc"

// kickGC asks for a collection soon (one is pending at most).
func (a *App) kickGC() { kickOnce(a.gcKick) }

// kickOnce asks the loop reading kick for a round soon: one is pending at
// most, so a burst of kicks is one round.
func kickOnce(kick chan struct{}) {
	select {
	case kick <- struct{}{}:
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
	a.singleton(func(ctx context.Context) {
		kicked(ctx, kick, a.gcEvery(), func(ctx context.Context) {
			if _, err := a.Deploy.CollectGarbage(audit.WithActor(ctx, GCActor)); err != nil && ctx.Err() == nil {
				a.log.Error("deploy: garbage collection failed", "err", err)
			}
		})
	})
}

// gcEvery is GCEvery, default hourly.
func (a *App) gcEvery() time.Duration {
	if a.opts.GCEvery <= 0 {
		return time.Hour
	}
	return a.opts.GCEvery
}

// kicked calls fn at each kick and every period until ctx ends, one call
// at a time.
func kicked(ctx context.Context, kick <-chan struct{}, every time.Duration, fn func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
		fn(ctx)
	}
}
