package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// storeHealthTTL is how long a storage check's result stands: the health
// endpoint, polled by load balancers, costs one probe per this period.
const storeHealthTTL = 5 * time.Second

// storeProbeTimeout bounds one probe; it is longer than a request's wait,
// so a transaction holding the store's write lock for a moment does not
// count as a store that cannot write.
const storeProbeTimeout = 30 * time.Second

// probeFileSize is what the write probe writes in each folder: a folder
// with less room than this cannot take a deployment's files either.
const probeFileSize = 64 << 10

// storeHealth checks that the state store commits and the server's
// folders take writes, and how much room the folders have left. A result
// is reused for storeHealthTTL; a stale one is refreshed in the
// background, so a request never waits behind a slow probe once one has
// run.
type storeHealth struct {
	db        *store.DB
	dirs      []healthDir
	threshold DiskThreshold
	log       *slog.Logger
	now       func() time.Time
	// space and probeFile are diskSpace and probeFile but in tests
	// (Options.diskSpace).
	space     func(dir string) (free, total uint64, err error)
	probeFile func(dir string) error

	mu      sync.Mutex
	at      time.Time
	last    monitor.StorageHealth
	running chan struct{} // closed when the probe in flight ends; nil when none runs
}

// healthDir is a folder the check watches.
type healthDir struct{ name, path string }

// newStoreHealth checks db and the data dir and its blob dir.
func (a *App) newStoreHealth() *storeHealth {
	h := &storeHealth{db: a.DB, threshold: a.opts.DiskAlertFree, log: a.log, now: time.Now, space: diskSpace, probeFile: probeFile,
		dirs: []healthDir{{"data dir", a.opts.DataDir}, {"blob dir", filepath.Join(a.opts.DataDir, "blobs")}}}
	if a.opts.diskSpace != nil {
		h.space = a.opts.diskSpace
	}
	if a.opts.probeFile != nil {
		h.probeFile = a.opts.probeFile
	}
	a.onStop(h.settle) // before the store closes
	return h
}

// settle waits for the probe in flight, if any, so that none writes in the
// data dir or the store once the server has stopped.
func (h *storeHealth) settle(ctx context.Context) error {
	h.mu.Lock()
	running := h.running
	h.mu.Unlock()
	if running != nil {
		select {
		case <-running:
		case <-ctx.Done():
		}
	}
	return nil
}

// check returns the latest result. A stale result starts a probe; with
// wait (the monitor's evaluation) the call waits for it, without (the
// health endpoint) it answers with the result it has, waiting only when
// there is none yet, and at most until ctx ends (then Store is "").
func (h *storeHealth) check(ctx context.Context, wait bool) monitor.StorageHealth {
	h.mu.Lock()
	if h.running == nil && h.now().Sub(h.at) >= storeHealthTTL {
		h.running = make(chan struct{})
		go h.refresh(h.running)
	}
	running, have, last := h.running, !h.at.IsZero(), h.last
	h.mu.Unlock()
	if running == nil || (have && !wait) {
		return last
	}
	select {
	case <-running:
	case <-ctx.Done():
		return last
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// refresh runs one probe and keeps its result.
func (h *storeHealth) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), storeProbeTimeout)
	defer cancel()
	r := h.probe(ctx)
	h.mu.Lock()
	h.last, h.at, h.running = r, h.now(), nil
	h.mu.Unlock()
	close(done)
}

// probe commits a tiny transaction, writes a file in each folder and
// reads their free space.
func (h *storeHealth) probe(ctx context.Context) monitor.StorageHealth {
	r := monitor.StorageHealth{Store: monitor.StoreOK, Where: h.db.Where()}
	if err := h.probeStore(ctx); err != nil {
		r.Store = h.storeProblem(err, "the state store")
		h.log.Error("health: the state store cannot commit", "store", r.Where, "err", err)
	}
	for _, d := range h.dirs {
		ds := monitor.DiskSpace{Name: d.name, Path: d.path}
		if err := h.probeFile(d.path); err != nil && r.Store == monitor.StoreOK {
			r.Store = h.storeProblem(err, d.name)
			h.log.Error("health: cannot write in "+d.name, "dir", d.path, "err", err)
		}
		free, total, err := h.space(d.path)
		if err != nil {
			ds.Error = err.Error()
		} else {
			ds.Free, ds.Total, ds.Low = free, total, h.threshold.low(free, total)
		}
		r.Disks = append(r.Disks, ds)
	}
	return r
}

// storeProblem says, for the health endpoint and the alert, why what
// failed to take a write did: no path, since the endpoint is public.
func (h *storeHealth) storeProblem(err error, what string) string {
	switch {
	case store.DiskFull(err) && what == "the state store" && h.db.Dialect == store.Postgres:
		return "disk full (the database server's)"
	case store.DiskFull(err) && what == "the state store":
		return "disk full (data dir)"
	case store.DiskFull(err):
		return "disk full (" + what + ")"
	case store.Unreachable(err), errors.Is(err, context.DeadlineExceeded):
		return "unreachable"
	}
	return "cannot write (" + what + "; the server log has the error)"
}

// probeStore rewrites the store_health row.
func (h *storeHealth) probeStore(ctx context.Context) error {
	return h.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO store_health (id, probed_at) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`, h.now().UnixMilli())
		return err
	})
}

// probeFile writes probeFileSize bytes to a file in dir, syncs and
// removes it. The name starts with ".tmp-": backups and the blob sweep
// leave such files out.
func probeFile(dir string) error {
	f, err := os.CreateTemp(dir, ".tmp-health-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, probeFileSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write probe in %s: %w", dir, err)
	}
	return nil
}

// storage is the health endpoint's storage check (api.Options.Storage).
func (a *App) storage(ctx context.Context) monitor.StorageHealth { return a.health.check(ctx, false) }

// storageAlerts is the monitor's (monitor.Options.Storage): it waits for
// a fresh probe.
func (a *App) storageAlerts(ctx context.Context) (*monitor.StorageHealth, error) {
	h := a.health.check(ctx, true)
	if h.Store == "" {
		return nil, fmt.Errorf("storage check: %w", ctx.Err())
	}
	return &h, nil
}

// explainErr names, for an API caller, the cause of a failure that is no
// secret and that only the operator can fix (api.Options.Explain): a full
// disk, an unreachable database. Other errors stay internal.
func (a *App) explainErr(err error) error {
	switch {
	case store.DiskFull(err) && a.DB.Dialect == store.Postgres && !errors.Is(err, syscall.ENOSPC):
		return usererr.Wrap(usererr.Unavailable, err, "the database server's disk is full").
			WithHint("free space on the PostgreSQL server; the server goes on by itself once it can write")
	case store.DiskFull(err):
		return usererr.Wrap(usererr.Unavailable, err, fmt.Sprintf("the server's disk is full (data dir %s)", a.opts.DataDir)).
			WithHint("free space on that disk; the server goes on by itself once it can write")
	case store.Unreachable(err):
		return usererr.Wrap(usererr.Unavailable, err, "the database is unreachable").
			WithHint("the server goes on by itself once PostgreSQL answers again; its log has the error")
	}
	return err
}
