package app

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/cache"
)

// A garbage collection that deletes blobs from the shared store leaves
// the other replicas' caches believing them present (cache.Store
// remembers what the remote store holds), so an upload through them
// would be told a deleted blob is there. The collecting replica tells the
// others twice: a phoenix_blobs notification, at once, and a new blobs
// generation in replica_settings, which every replica's poll compares with
// the one it last relearned at: a notification lost (a dropped
// connection to PostgreSQL, a replica restarting its listener) costs at
// most one poll, not a release no replica can serve.

// blobsGenerationSetting names the replica_settings row that changes with
// every collection that deleted blobs.
const blobsGenerationSetting = "blobs_generation"

// announceCollected records a new blobs generation and notifies the other
// replicas. This one relearns at its next poll too, though its cache
// forgot what it deleted itself: it may have missed an earlier
// collection's notification, which a generation taken as seen here would
// hide.
func (a *App) announceCollected() {
	ctx := context.Background()
	gen := strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := a.DB.ExecContext(ctx, `INSERT INTO replica_settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, blobsGenerationSetting, gen); err != nil {
		a.log.Warn("replicas: cannot record a collection's blobs generation; the others forget the deleted blobs at its notification only", "err", err)
	}
	if a.muteBlobsChannel.Load() {
		return
	}
	if err := a.DB.Notify(ctx, BlobsChannel, ""); err != nil {
		a.log.Warn("replicas: cannot announce deleted blobs; the others forget them at their next poll", "err", err)
	}
}

// relearnIfCollected relearns the shared blob store when its blobs
// generation is not the one this replica last relearned at.
func (a *App) relearnIfCollected(ctx context.Context) {
	gen, err := a.blobsGeneration(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: read the blobs generation", "err", err)
		}
		return
	}
	if seen := a.blobsSeen.Load(); gen == "" || seen != nil && *seen == gen {
		return
	}
	a.relearnAt(ctx, gen)
}

// relearnBlobs drops from what this replica knows of the shared blob
// store the blobs another replica's garbage collection deleted (at its
// notification).
func (a *App) relearnBlobs(ctx context.Context) {
	gen, err := a.blobsGeneration(ctx)
	if err != nil && ctx.Err() == nil {
		a.log.Error("replicas: read the blobs generation", "err", err)
	}
	a.relearnAt(ctx, gen)
}

// relearnAt relearns the shared blob store and remembers gen, read before
// the listing: a collection during it changes the generation again.
func (a *App) relearnAt(ctx context.Context, gen string) {
	c, ok := a.store.(*cache.Store)
	if !ok {
		return
	}
	if err := c.Relearn(ctx); err != nil {
		if ctx.Err() == nil {
			a.log.Error("replicas: relearn the blob store after a collection", "err", err)
		}
		return
	}
	if gen != "" {
		a.blobsSeen.Store(&gen)
	}
}

// blobsGeneration reads the shared blobs generation ("" before any
// collection deleted a blob).
func (a *App) blobsGeneration(ctx context.Context) (string, error) {
	var gen string
	err := a.DB.QueryRowContext(ctx, `SELECT value FROM replica_settings WHERE name = $1`, blobsGenerationSetting).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return gen, err
}
