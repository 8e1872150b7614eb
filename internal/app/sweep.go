package app

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// sweepBlobs removes the temporary files a crashed or killed writer left in
// the blob store (a blob being written, hard-linked or fetched when the
// process died), before the server serves. Only files older than the
// grace period go: a 'phoenix deploy' staging into the same store from
// another process may be writing younger ones right now. A failure is
// logged, not fatal: the leftovers only take space.
func (a *App) sweepBlobs(ctx context.Context, l *local.Store) {
	n, err := l.Sweep(ctx, local.Grace)
	if err != nil {
		a.log.Warn("blob store: cannot remove leftover temporary files", "dir", l.Root(), "err", err)
	}
	if n > 0 {
		a.log.Info("blob store: removed temporary files a crash left", "dir", l.Root(), "files", n)
	}
}
