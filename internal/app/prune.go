package app

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/tick"
)

// kickPrune asks for a run prune soon: called after each run finishes, so
// a burst of runs triggers one prune.
func (a *App) kickPrune() { kickOnce(a.pruneKick) }

// startPrune applies the pipeline's run retention (pipeline.Prune) on the
// leader: once at start, after runs finish (coalesced) and every GCEvery
// (default hourly). The rows are shared, the run folders are not: with
// replicas, a server that does not lead sweeps its own folders of runs
// the leader pruned, on the same period.
func (a *App) startPrune() {
	kickOnce(a.pruneKick) // the first round, at start
	a.singleton(func(ctx context.Context) {
		kicked(ctx, a.pruneKick, a.gcEvery(), func(ctx context.Context) {
			if _, err := a.Pipeline.Prune(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("pipeline: pruning old runs failed", "err", err)
			}
		})
	})
	if !a.opts.Replica.On {
		return
	}
	a.background(func(ctx context.Context) {
		tick.Every(ctx, a.gcEvery(), func(ctx context.Context) {
			if a.Leading() {
				return // the leader's Prune sweeps
			}
			if _, err := a.Pipeline.SweepFolders(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("pipeline: removing the folders of pruned runs failed", "err", err)
			}
		})
	})
}
