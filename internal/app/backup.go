package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/backup/mirror"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
	"github.com/phoenixvc/phoenix/internal/version"
)

// BackupOptions configures the server's backups (docs/backup.md). Without
// a Repo the server takes none.
type BackupOptions struct {
	Repo string       // repository made by 'phoenix backup init'
	Key  vault.Secret // the repository's passphrase or key file contents
	// Schedule is hourly, daily, weekly, monthly or a cron expression
	// (default daily); "off" takes backups on request only.
	Schedule string
	// KeepWithin is how long snapshots are kept (default 90 days); the
	// newest is always kept.
	KeepWithin time.Duration
	// SkipRestoreTest turns off the restore test after each backup.
	SkipRestoreTest bool
	// Mirror, when set, gets a copy of the repository after each backup
	// (S3-compatible storage away from this machine).
	Mirror *mirror.S3
}

// BackupResult is what one backup did.
type BackupResult struct {
	Snapshot     backup.Summary `json:"snapshot"`
	RestoreTest  string         `json:"restore_test"` // "passed" or "skipped"
	Forgotten    int            `json:"forgotten"`
	PrunedBytes  int64          `json:"pruned_bytes"`
	Mirror       *mirror.Report `json:"mirror,omitempty"` // what the push to the mirror sent
	DurationSecs float64        `json:"duration_seconds"`
	// Damaged names the snapshots prune could not read (full ids): it
	// kept them and deleted no object; Warning says so and how to remove
	// them (docs/backup.md#a-damaged-snapshot). The backup itself succeeded.
	Damaged []string `json:"damaged_snapshots,omitempty"`
	Warning string   `json:"warning,omitempty"`
}

// Backups takes backups of the data dir into the repository: on its
// schedule and on request (POST /api/v1/backups). One runs at a time.
type Backups struct {
	a     *App
	opts  BackupOptions
	mu    sync.Mutex // held by the backup running
	state backupState
	// prunePending: a prune was skipped (the repository was in use), so
	// the next backup prunes even if it forgets nothing. Guarded by mu.
	prunePending bool
	// server is this server's identity in the repository (the data dir's
	// server.id): its snapshots carry it, and retention forgets only them.
	server string
}

// errNoBackupRepo answers backup requests on a server started without one.
var errNoBackupRepo = usererr.New(usererr.Unavailable, "this server has no backup repository").
	WithHint("start it with --backup-repo DIR (made by 'phoenix backup init') and PHOENIX_BACKUP_KEY or --backup-key-file")

func (a *App) openBackups() error {
	o := a.opts.Backup
	if o.KeepWithin <= 0 {
		o.KeepWithin = 90 * 24 * time.Hour
	}
	if o.Schedule == "" {
		o.Schedule = "daily"
	}
	removeStaleRestoreTests(a.opts.DataDir)
	b := &Backups{a: a, opts: o}
	b.state.st = BackupStatus{Repo: o.Repo, Schedule: o.Schedule, KeepWithin: days(o.KeepWithin)}
	b.state.began = time.Now()
	if o.Mirror != nil {
		b.state.st.Mirror = o.Mirror.String()
	}
	a.Backups = b
	if o.Repo == "" {
		return nil
	}
	id, err := backup.ServerID(a.opts.DataDir)
	if err != nil {
		return fmt.Errorf("backups: %w", err)
	}
	b.server = id
	if err := b.probe(); err != nil {
		return err
	}
	if o.Schedule == "off" {
		return nil
	}
	sched, err := config.ParseCron((&config.Backup{Frequency: o.Schedule}).Schedule(), "")
	if err != nil {
		return usererr.New(usererr.Usage, "backup schedule %q: %v", o.Schedule, err).
			WithHint(`use hourly, daily, weekly, monthly, off or a cron expression such as "0 2 * * *"`)
	}
	b.state.sched = sched
	return nil
}

// probe opens the repository at start and learns its newest snapshot. A
// wrong key stops the start, as a wrong vault key does, instead of failing
// the first backup a day later. Anything else (a share not mounted yet)
// must not keep the sites down: it is logged, and each backup that fails
// is reported.
func (b *Backups) probe() error {
	repo, err := b.open(context.Background())
	var ue *usererr.Error
	switch {
	case errors.Is(err, backup.ErrWrongKey) && errors.As(err, &ue):
		return usererr.Wrap(usererr.Usage, err, ue.Message).WithHint("%s", ue.Hint)
	case err != nil:
		b.a.log.Error("backup repository unusable; backups will fail until it is", "repo", b.opts.Repo, "err", err)
		return nil
	}
	defer repo.Close()
	list, _ := repo.List(context.Background())
	// This server's own newest: another's (the production server a
	// restore drill came from) says nothing of whether this one backs up.
	s, ok := backup.NewestOf(list, b.server)
	if !ok {
		// A snapshot from before servers were recorded may be this
		// server's, just upgraded. Counting it here only dates the last
		// success, which makes up a missed run now rather than skipping
		// it; retention never treats it as this server's (Forget).
		s, ok = backup.NewestOf(list, "")
	}
	if ok {
		b.state.st.LastSuccess, b.state.st.LastSnapshot = ptr(s.Time), s.ID
	}
	return nil
}

// schedule takes a backup at every time of the schedule until the server
// stops; Start calls it last, once every domain a backup reports to is
// open. A run the schedule wanted while the server was down (the newest
// snapshot is older than the run that should have followed it) is made up
// right away, as anacron does, instead of waiting for the next.
func (b *Backups) schedule() {
	sched := b.state.sched
	if sched == nil || b.opts.Repo == "" {
		return
	}
	missed := b.missedRun(sched, time.Now())
	b.a.singleton(func(ctx context.Context) {
		if missed {
			b.a.log.Info("backup: making up a scheduled run missed while the server was down")
			b.scheduled(ctx)
		}
		for {
			t := time.NewTimer(time.Until(sched.Next(time.Now())))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			b.scheduled(ctx)
		}
	})
}

// missedRun reports whether a scheduled run came and went since the
// newest snapshot (none yet: nothing was missed, the first run comes on
// schedule).
func (b *Backups) missedRun(sched cron.Schedule, now time.Time) bool {
	last := b.state.snapshot(now).LastSuccess
	return last != nil && sched.Next(*last).Before(now)
}

// scheduled runs one scheduled backup.
func (b *Backups) scheduled(ctx context.Context) {
	_, _ = b.Run(ctx, "phoenix (schedule)") // Run logs, audits and announces a failure
}

// Run takes a backup now: a consistent copy of the database and every
// file of the data dir while garbage collection waits, then (unless
// turned off) a restore test, then retention. The result is audited,
// published as backup.completed, and a failure is sent to every channel
// that subscribes to backup.failed.
func (b *Backups) Run(ctx context.Context, actor string) (*BackupResult, error) {
	if b.opts.Repo == "" {
		return nil, errNoBackupRepo
	}
	if !b.mu.TryLock() {
		return nil, usererr.New(usererr.Conflict, "a backup is already running").WithHint("wait for it and try again")
	}
	defer b.mu.Unlock()
	start := time.Now()
	b.state.update(func(st *BackupStatus) { st.Running = true })
	res, err := b.run(ctx)
	err = b.failure(err)
	b.state.update(func(st *BackupStatus) {
		st.Running = false
		if err != nil {
			st.LastFailure, st.LastError = ptr(time.Now()), err.Error()
		} else {
			st.LastSuccess, st.LastSnapshot, st.LastError = ptr(res.Snapshot.Time), res.Snapshot.ID, ""
		}
	})
	if err != nil {
		b.failed(ctx, actor, err)
		return nil, err
	}
	res.DurationSecs = time.Since(start).Seconds()
	b.succeeded(ctx, actor, res)
	return res, nil
}

func (b *Backups) run(ctx context.Context) (*BackupResult, error) {
	repo, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	host := b.a.backupHost()
	var snap *backup.Snapshot
	err = b.a.Deploy.HoldBlobs(func() error {
		// Blobs in S3: the snapshot copies them from the cache, filled
		// with every retained release's blobs first (docs/backup.md).
		if err := b.a.Deploy.FetchRetained(ctx); err != nil {
			return err
		}
		snap, err = repo.Create(ctx, backup.CreateOptions{DataDir: b.a.opts.DataDir, SnapshotDB: b.a.DB.Snapshot,
			DBFile: b.a.DB.SnapshotFile(), Host: host, Server: b.server, Version: version.Get().Version})
		return err
	})
	if err != nil {
		return nil, repoError(b.opts.Repo, err)
	}
	res := &BackupResult{Snapshot: snap.Summary(), RestoreTest: "skipped"}
	if !b.opts.SkipRestoreTest {
		if err := b.restoreTest(ctx, repo, snap.ID); err != nil {
			return nil, fmt.Errorf("backup %s: restore test: %w", snap.ID[:12], err)
		}
		res.RestoreTest = "passed"
	}
	if len(snap.Corrupt) > 0 {
		// The snapshot holds everything else and is kept; retention waits,
		// as an older snapshot may hold the only good copy of the blob.
		return nil, b.corruptBlobs(ctx, snap)
	}
	if err := b.retain(ctx, repo, res); err != nil {
		return nil, err
	}
	if m := b.opts.Mirror; m != nil {
		rep, err := m.Push(ctx, b.opts.Repo)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s is taken, but its copy to the mirror failed: %w", short(res.Snapshot.ID), err)
		}
		res.Mirror = &rep
	}
	return res, nil
}

// retain forgets the snapshots older than KeepWithin and prunes what only
// they used. Both need the repository alone: when a listing or a restore
// holds it, retention waits for the next backup, which is not a failure of
// this one.
func (b *Backups) retain(ctx context.Context, repo *backup.Repo, res *BackupResult) error {
	gone, err := repo.Forget(ctx, b.server, b.opts.KeepWithin, time.Now())
	if errors.Is(err, backup.ErrLocked) {
		b.a.log.Warn("backup retention skipped: the repository is in use; the next backup applies it")
		return nil
	} else if err != nil {
		return fmt.Errorf("backup: retention: %w", err)
	}
	res.Forgotten = len(gone)
	if len(gone) == 0 && !b.prunePending {
		return nil
	}
	pr, err := repo.Prune(ctx)
	if errors.Is(err, backup.ErrLocked) {
		b.a.log.Warn("backup prune skipped: the repository is in use; the next backup prunes")
		b.prunePending = true
		return nil
	} else if err != nil {
		return fmt.Errorf("backup: prune: %w", err)
	}
	b.prunePending = len(pr.Damaged) > 0 // each backup prunes again until they are gone
	res.PrunedBytes = pr.Bytes
	if len(pr.Damaged) > 0 {
		res.Damaged, res.Warning = pr.Damaged, damagedWarning(b.opts.Repo, pr)
		b.a.log.Warn("backup prune deleted nothing: a snapshot cannot be read", "damaged", pr.Damaged,
			"kept_objects", pr.Kept, "kept_bytes", pr.KeptBytes, "warning", res.Warning)
	}
	b.state.update(func(st *BackupStatus) { st.Warning = res.Warning }) // as of this prune
	return nil
}

// damagedWarning says which snapshots prune could not read, what it kept
// for them, and how to remove them.
func damagedWarning(repo string, pr *backup.PruneReport) string {
	files := make([]string, len(pr.Damaged))
	for i, id := range pr.Damaged {
		files[i] = backup.SnapshotFile(repo, id)
	}
	return fmt.Sprintf("%d snapshot(s) cannot be read, damaged: %s; retention keeps them and, as the data they use is unknown, "+
		"prune deletes none while they are there (%d object(s), %d bytes no other snapshot uses are kept). "+
		"Once the others are verified ('phoenix backup verify ID --repo %s'), delete %s (docs/backup.md#a-damaged-snapshot)",
		len(pr.Damaged), shortIDs(pr.Damaged), pr.Kept, pr.KeptBytes, repo, strings.Join(files, " "))
}

// open opens the repository with the server's key.
func (b *Backups) open(ctx context.Context) (*backup.Repo, error) {
	if b.opts.Repo == "" {
		return nil, errNoBackupRepo
	}
	repo, err := backup.Open(ctx, b.opts.Repo, b.opts.Key.Bytes())
	return repo, repoError(b.opts.Repo, err)
}

// Status is the backups' state now. A replica first adopts the
// repository's newest snapshot when it is newer than the last one it
// knows of: the replicas share the repository, and the newest may be
// another's (the leader's schedule, 'phoenix backup create' answered by
// another), which this one's memory alone would call "no backup yet".
func (b *Backups) Status(ctx context.Context) BackupStatus {
	if b.a.opts.Replica.On {
		b.adoptNewest(ctx)
	}
	return b.state.snapshot(time.Now())
}

// adoptNewest records the repository's newest snapshot as the last
// success when it is newer than the one known; a repository that cannot
// be listed now (busy, unreachable) leaves the status as it was.
func (b *Backups) adoptNewest(ctx context.Context) {
	if b.opts.Repo == "" {
		return
	}
	list, err := b.List(ctx)
	if err != nil || len(list) == 0 || list[0].Damaged {
		return
	}
	b.state.update(func(s *BackupStatus) {
		if s.LastSuccess == nil || list[0].Time.After(*s.LastSuccess) {
			s.LastSuccess, s.LastSnapshot = ptr(list[0].Time), list[0].ID
		}
	})
}

// List returns the repository's snapshots, newest first, then those that
// cannot be read (Damaged, by ID alone): one damaged snapshot hides no
// other (docs/backup.md#a-damaged-snapshot).
func (b *Backups) List(ctx context.Context) ([]backup.Summary, error) {
	repo, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	list, err := repo.List(ctx)
	var damaged *backup.DamagedError
	if errors.As(err, &damaged) {
		for _, id := range damaged.IDs {
			list = append(list, backup.Summary{ID: id, Damaged: true})
		}
		err = nil
	}
	return list, err
}

// repoError turns the repository's errors into ones the CLI and API map.
func repoError(repo string, err error) error {
	switch {
	case errors.Is(err, backup.ErrWrongKey):
		return usererr.Wrap(usererr.Unavailable, err, "the server's backup key does not open the repository "+repo).
			WithHint("restart the server with the key the repository was made with (PHOENIX_BACKUP_KEY or --backup-key-file)")
	case errors.Is(err, backup.ErrLocked):
		return usererr.Wrap(usererr.Conflict, err, "the backup repository is busy (a backup, retention or restore holds it)").
			WithHint("try again when it is done")
	case errors.Is(err, backup.ErrNotRepo):
		// The server's own repository: one it backed up to before is most
		// likely on a disk or share not mounted now, where a new one made
		// by 'init' would take the next backups from the old one.
		return usererr.Wrap(usererr.Unavailable, err, "no backup repository at "+repo).
			WithHint("if it was there before, mount the disk or share that holds it; if it never was, make one with 'phoenix backup init --repo %s'", repo)
	}
	return err
}

// failure logs why a backup failed, in full, and returns what the caller,
// the status, the audit record and the backup.failed notice get: an
// untyped error (pg_dump failing, the repository unreachable, a full disk)
// becomes Unavailable with its reason, which the operator can act on, and
// not a bare internal error; the database URL and its password never
// show in it.
func (b *Backups) failure(err error) error {
	if err == nil {
		return nil
	}
	b.a.log.Error("backup failed", "err", err)
	if _, typed := errors.AsType[*usererr.Error](err); typed {
		return err
	}
	return usererr.Wrap(usererr.Unavailable, err, "backup failed: "+b.a.withoutDatabaseURL(err.Error())).
		WithHint("'phoenix backup status' shows the last failure; the server log has the details")
}

// withoutDatabaseURL replaces the PostgreSQL URL in msg, in every form
// errors carry it (as given, redacted, without its password), with "the
// database", and its password with xxxxx.
func (a *App) withoutDatabaseURL(msg string) string {
	dsn := a.opts.DatabaseURL
	if dsn == "" {
		return msg
	}
	forms, secrets := databaseURLForms(dsn)
	forms = append(forms, a.DB.Where())
	for _, f := range forms {
		if f != "" {
			msg = strings.ReplaceAll(msg, f, "the database")
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// databaseURLForms returns the forms of dsn an error may quote, and its
// password (in the user info or the query) as written and escaped.
func databaseURLForms(dsn string) (forms, secrets []string) {
	forms = []string{dsn, store.RedactDSN(dsn)}
	u, err := url.Parse(dsn)
	if err != nil {
		return forms, nil
	}
	if p := u.Query().Get("password"); p != "" {
		secrets = append(secrets, p, url.QueryEscape(p))
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
		u.User = url.User(u.User.Username())
		forms = append(forms, u.String())
	}
	return forms, secrets
}

func short(id string) string { return id[:min(12, len(id))] }

// shortIDs lists snapshot ids abbreviated, comma-separated.
func shortIDs(ids []string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = short(id)
	}
	return strings.Join(s, ", ")
}

// backupHost is what a snapshot records as its host: the machine's name,
// and with replicas the replica's advertised API address too, so the
// snapshots two replicas on one machine took tell apart in 'phoenix
// backup list'.
func (a *App) backupHost() string {
	host, _ := os.Hostname()
	if r := a.runner(); r != "" {
		return host + " (" + r + ")"
	}
	return host
}
