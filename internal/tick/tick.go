// Package tick runs periodic background work (store checkpoints, monitor
// flushes, vault rotations) until its context ends.
package tick

import (
	"context"
	"time"
)

// Every calls fn every d until ctx ends, then returns; no call starts
// after ctx ended. fn runs on the caller's goroutine, one call at a time;
// a call that overruns d delays the next tick rather than overlapping it.
func Every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() != nil { // both were ready: the end wins, no call after it
				return
			}
			fn(ctx)
		}
	}
}
