package app

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/backup/mirror"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

var cheapBackupKDF = backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

const (
	backupKey    = "backup-key-never-in-the-repo-or-logs"
	masterKey    = "the master key of this vault"
	secretMarker = "secret-value-marker-93f1c"
)

// startWithBackups starts a server with a vault and a backup repository
// (no schedule: backups are taken on request), logging into log.
func startWithBackups(t *testing.T, dir, repo string, log *bytes.Buffer) *App {
	t.Helper()
	return startOpts(t, Options{DataDir: dir,
		Logger:    slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off"}})
}

// startKeepingNewest starts a server whose backups (on request) keep only
// the newest snapshot, logging into log.
func startKeepingNewest(t *testing.T, repo string, log *bytes.Buffer) *App {
	t.Helper()
	return startOpts(t, Options{DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(log, nil)),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off", KeepWithin: time.Nanosecond}})
}

// initRepo makes a backup repository opened by key.
func initRepo(t *testing.T, key string) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	initRepoAt(t, repo, key)
	return repo
}

func initRepoAt(t *testing.T, repo, key string) {
	t.Helper()
	r, err := backup.Init(context.Background(), repo, []byte(key), cheapBackupKDF)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// TestBackupRestoreDrill is the whole disaster drill: a server with a
// deployment and a secret takes two backups (the second stores little:
// deduplication), the data dir is lost, the latest snapshot is restored
// into a new folder, and a server started on it serves the same release,
// reads the same secret and has an intact audit log that records the
// first backup. Neither the secret nor the backup key is readable in the
// repository or the server's log.
func TestBackupRestoreDrill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startWithBackups(t, t.TempDir(), repo, &log)
	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "API_TOKEN", vault.SecretString(secretMarker), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	old := deployPage(t, a, "production", "<title>one</title>")
	first, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if first.RestoreTest != "passed" || first.Snapshot.Files < 3 {
		t.Fatalf("first backup: %+v", first)
	}
	live := deployPage(t, a, "production", "<title>two</title>")
	second, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := objectOf(t, repo, first.Snapshot.ID, old), objectOf(t, repo, second.Snapshot.ID, old); a == "" || a != b {
		t.Fatalf("the unchanged blob is object %q in the first snapshot and %q in the second: stored again", a, b)
	}
	list, err := a.Backups.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != second.Snapshot.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	a.Stop(ctx)

	b := startWithBackups(t, restoreLatest(t, repo), repo, &log)
	active, err := b.Deploy.Active(ctx)
	if err != nil || len(active) != 1 {
		t.Fatalf("active after restore: %+v %v", active, err)
	}
	if _, err := b.Blobs.Stat(ctx, live); err != nil {
		t.Fatalf("the live release's blob is missing after restore: %v", err)
	}
	v, _, err := b.Vault.Get(ctx, admin, "API_TOKEN", 0)
	if err != nil || v.Reveal() != secretMarker {
		t.Fatalf("secret after restore: %v", err)
	}
	rep, err := b.Audit.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("audit after restore: %+v %v", rep, err)
	}
	assertAbsent(t, repo, secretMarker, backupKey)
	b.Stop(ctx) // its background work (a verification resumed) logs into log
	if bytes.Contains(log.Bytes(), []byte(backupKey)) {
		t.Fatal("the backup key is in the server's log")
	}
}

// restoreLatest restores the latest snapshot of repo into a new folder
// and returns it.
func restoreLatest(t *testing.T, repo string) string {
	t.Helper()
	ctx := context.Background()
	restored := filepath.Join(t.TempDir(), "restored")
	r, err := backup.Open(ctx, repo, []byte(backupKey))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Restore(ctx, "latest", restored, nil); err != nil {
		t.Fatal(err)
	}
	return restored
}

// objectOf returns the object that holds blob d in a snapshot.
func objectOf(t *testing.T, repo, snapshot string, d backend.Digest) string {
	t.Helper()
	r, err := backup.Open(context.Background(), repo, []byte(backupKey))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Load(context.Background(), snapshot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Files {
		if e.Path == "blobs/sha256/"+d.Hex()[:2]+"/"+d.Hex() {
			return e.Object
		}
	}
	return ""
}

// assertAbsent fails if any file under dir contains one of the strings.
func assertAbsent(t *testing.T, dir string, needles ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds %q in plaintext", p, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackupErrors: no repository, a wrong key and a backup already
// running are errors the API maps (503, 503, 409), and a failure is
// audited.
func TestBackupErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := start(t, t.TempDir())
	if _, err := plain.Backups.Run(ctx, "ops"); usererr.KindOf(err) != usererr.Unavailable {
		t.Fatalf("no repository: %v", err)
	}
	other := initRepo(t, "another key entirely")
	var refused bytes.Buffer
	w, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(&refused, nil)),
		Backup: BackupOptions{Repo: other, Key: vault.SecretString(backupKey), Schedule: "off"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("start with a wrong backup key: %v", err)
	}
	if strings.Contains(refused.String(), "edge listening") { // refused before anything serves
		t.Errorf("a start refused for its backup key served first:\n%s", refused.String())
	}
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startWithBackups(t, t.TempDir(), repo, &log)
	// The repository's key changes under the running server (restored
	// from elsewhere): backups fail with 503 and say why.
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	initRepoAt(t, repo, "another key entirely")
	if _, err := a.Backups.Run(ctx, "ops"); usererr.KindOf(err) != usererr.Unavailable {
		t.Fatalf("wrong key: %v", err)
	}
	a.Backups.mu.Lock()
	_, err = a.Backups.Run(ctx, "ops")
	a.Backups.mu.Unlock()
	if usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("second backup at once: %v", err)
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "backup.create"})
	if err != nil || len(recs) != 1 || recs[0].Outcome != audit.Failed { // the outcome of every failed change
		t.Fatalf("failure not audited: %+v %v", recs, err)
	}
}

// TestBackupWorkflow runs the seed's backup workflow (take a backup, then
// verify it) as a pipeline workflow: both steps succeed and the snapshot
// the first step made is the one the repository lists.
func TestBackupWorkflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startWithBackups(t, t.TempDir(), repo, &log)
	if d := runBackupWorkflow(t, a); d.Status != pipeline.Succeeded {
		t.Fatalf("workflow %s: %+v", d.Status, d.Steps)
	}
	list, err := a.Backups.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("snapshots after the workflow: %+v %v", list, err)
	}
}

// TestBackupSchedule: the server takes backups on its schedule by itself,
// and a schedule it cannot read stops the start with a usage error.
func TestBackupSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	a := startOpts(t, Options{DataDir: t.TempDir(),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "@every 1s"}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := a.Backups.List(ctx)
		if err == nil && len(list) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled backup after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling for the scheduled backup, not timing it
	}
	b, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "every full moon"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "every full moon") {
		t.Fatalf("bad schedule: %v", err)
	}
}

// TestBackupRepoUnreachableAtStart: a repository that is not there (a
// share not mounted yet) does not stop the server; backups fail with the
// reason until it is there.
func TestStaleRestoreTestRemovedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, restoreTestPrefix+"123", "data")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	start(t, dir)
	if _, err := os.Stat(filepath.Dir(stale)); !os.IsNotExist(err) {
		t.Fatalf("a crashed restore test's folder survived the start: %v", err)
	}
}

func TestBackupRepoUnreachableAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "not-mounted")
	var log bytes.Buffer
	a := startWithBackups(t, t.TempDir(), missing, &log)
	if !strings.Contains(log.String(), "backup repository unusable") {
		t.Fatalf("nothing logged about the missing repository:\n%s", log.String())
	}
	if _, err := a.Backups.Run(ctx, "ops"); usererr.KindOf(err) != usererr.Unavailable || !strings.Contains(err.Error(), "no backup repository") {
		t.Fatalf("backup without its repository: %v", err)
	}
}

// TestBackupStatus: the status follows the backups: the newest snapshot
// at start, a success, a failure with its reason, and the next run.
func TestBackupStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir,
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "daily"}})
	if st := a.Backups.Status(context.Background()); st.LastSuccess != nil || st.NextRun == nil || st.Overdue || st.Repo != repo {
		t.Fatalf("before any backup: %+v", st)
	}
	res, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	st := a.Backups.Status(context.Background())
	if st.LastSuccess == nil || st.LastSnapshot != res.Snapshot.ID || st.LastError != "" || st.Running {
		t.Fatalf("after a backup: %+v", st)
	}
	a.Stop(ctx)
	// A new server on the same data dir knows the last backup from the repository.
	b := startOpts(t, Options{DataDir: dir,
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "daily"}})
	if st := b.Backups.Status(context.Background()); st.LastSnapshot != res.Snapshot.ID {
		t.Fatalf("after a restart: %+v", st)
	}
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	// Gone from under a server that backed up to it: most likely not
	// mounted, so the hint does not only say to make a new one.
	if _, err := b.Backups.Run(ctx, "ops"); err == nil || !strings.Contains(usererr.HintOf(err), "mount the disk or share that holds it") {
		t.Fatalf("a backup into a removed repository: %v (hint %q)", err, usererr.HintOf(err))
	}
	if st := b.Backups.Status(context.Background()); st.LastFailure == nil || !strings.Contains(st.LastError, "no backup repository") ||
		st.LastSnapshot != res.Snapshot.ID {
		t.Fatalf("after a failure: %+v", st)
	}
}

func TestBackupOverdue(t *testing.T) {
	t.Parallel()
	sched, err := config.ParseCron("@daily", "")
	if err != nil {
		t.Fatal(err)
	}
	last := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC) // runs due at 21 00:00 and 22 00:00
	for now, want := range map[time.Time]bool{
		time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC): false, // one run missed: a slow backup, maybe
		time.Date(2026, 11, 22, 0, 0, 1, 0, time.UTC):  true,
	} {
		if got := overdue(sched, &last, now); got != want {
			t.Errorf("overdue at %v = %v, want %v", now, got, want)
		}
	}
	if overdue(sched, nil, time.Now()) {
		t.Error("overdue without any backup yet")
	}
}

// TestBackupMirror: with a mirror, each backup is copied to S3-compatible
// storage (testkit.S3: the S3 API on 127.0.0.1, the only stand-in for
// cloud storage), and a repository pulled from there restores
// a data dir a new server serves the same release from: the machine and
// its repository can both be lost.
func TestBackupMirror(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := testkit.S3(t, "offsite")
	m, err := mirror.New(mirror.Config{URL: "s3://offsite/phoenix", Endpoint: endpoint, AccessKey: "AKID", SecretKey: "mirror-secret"})
	if err != nil {
		t.Fatal(err)
	}
	repo := initRepo(t, backupKey)
	a := startOpts(t, Options{DataDir: t.TempDir(),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off", Mirror: m}})
	live := deployPage(t, a, "production", "<title>mirrored</title>")
	res, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if res.Mirror == nil || res.Mirror.Uploaded < 5 {
		t.Fatalf("mirror push: %+v", res.Mirror)
	}
	if st := a.Backups.Status(context.Background()); st.Mirror != "s3://offsite/phoenix" {
		t.Fatalf("status mirror = %q", st.Mirror)
	}
	a.Stop(ctx)
	pulled := filepath.Join(t.TempDir(), "pulled")
	if _, err := m.Pull(ctx, pulled); err != nil {
		t.Fatal(err)
	}
	b := start(t, restoreLatest(t, pulled))
	if _, err := b.Blobs.Stat(ctx, live); err != nil {
		t.Fatalf("the release's blob is missing after restoring from the mirror: %v", err)
	}
}

// TestBackupCatchUp: a scheduled run missed while the server was down is
// made up right after the start; a recent snapshot waits for the schedule.
func TestBackupCatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	dir := t.TempDir()
	r, err := backup.Open(ctx, repo, []byte(backupKey))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-72 * time.Hour)
	if _, err := r.Create(ctx, backup.CreateOptions{DataDir: t.TempDir(), Now: func() time.Time { return old }}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	a := startOpts(t, Options{DataDir: dir,
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "daily"}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if list, err := a.Backups.List(ctx); err == nil && len(list) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no catch-up backup 30s after a start that missed three daily runs")
		}
		time.Sleep(50 * time.Millisecond) // polling for the background backup, not timing it
	}

	sched, _ := config.ParseCron("@daily", "")
	b := &Backups{}
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	for last, want := range map[time.Time]bool{
		now.Add(-time.Hour):      false, // taken after today's midnight run was due: nothing missed
		now.Add(-30 * time.Hour): true,  // last night's run was missed
	} {
		b.state.st.LastSuccess = ptr(last)
		if got := b.missedRun(sched, now); got != want {
			t.Errorf("missedRun with the last backup at %v = %v, want %v", last, got, want)
		}
	}
	b.state.st.LastSuccess = nil
	if b.missedRun(sched, now) {
		t.Error("a repository without snapshots counts as a missed run")
	}
}

// backupAlert evaluates a's rules once and returns the backup-overdue
// alert of repo (State inactive when there is none).
func backupAlert(t *testing.T, a *App, repo string) monitor.Alert {
	t.Helper()
	return alertByID(t, a, monitor.BackupRule+"@"+monitor.BackupInstance(repo))
}

// TestBackupOverdueAlerts: with no rule written, a server whose hourly
// backups have not succeeded for two runs fires backup-overdue (none at
// all since it started counts); a backup resolves it; a newer snapshot
// in the repository that this server did not make (another replica's)
// counts too.
func TestBackupOverdueAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-",
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "hourly"}})
	if al := backupAlert(t, a, repo); al.State != monitor.StateInactive {
		t.Fatalf("a server that just started: %+v", al)
	}
	a.Backups.state.mu.Lock()
	a.Backups.state.began = time.Now().Add(-3 * time.Hour)
	a.Backups.state.mu.Unlock()
	al := backupAlert(t, a, repo)
	if al.State != monitor.StateFiring || !strings.Contains(al.Summary, "no successful backup for 3") || al.Severity != 1 {
		t.Fatalf("three hours without a backup on an hourly schedule: %+v", al)
	}
	res, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if al := backupAlert(t, a, repo); al.State != monitor.StateResolved {
		t.Fatalf("after a backup: %+v", al)
	}
	// This server's own record goes stale, as a follower's does while the
	// leader backs up: the repository's newest snapshot keeps it quiet.
	a.Backups.state.update(func(st *BackupStatus) { st.LastSuccess = ptr(time.Now().Add(-3 * time.Hour)) })
	a.Backups.state.mu.Lock()
	a.Backups.state.reread = time.Time{} // the last look at the repository was long enough ago
	a.Backups.state.mu.Unlock()
	if al := backupAlert(t, a, repo); al.State != monitor.StateResolved {
		t.Fatalf("with a fresh snapshot in the repository: %+v", al)
	}
	if st := a.Backups.Status(context.Background()); st.Overdue || st.LastSnapshot != res.Snapshot.ID {
		t.Fatalf("status after reading the repository again: %+v", st)
	}
}

// TestBackupSucceedsPastADamagedSnapshot: a snapshot the backup disk
// damaged stopped prune, so every backup whose retention forgot something
// failed ("prune: … corrupt") until someone deleted its file. The backup
// succeeds; its result, the status, the log and the audit record name the
// damaged snapshot and its file, which prune kept with every object; once
// the file is deleted, the next backup prunes and the warning is gone.
func TestBackupSucceedsPastADamagedSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startKeepingNewest(t, repo, &log)
	first, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	bad := first.Snapshot.ID
	file := backup.SnapshotFile(repo, bad)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Backups.Run(ctx, "ops"); err != nil { // the newest: nothing to forget
		t.Fatal(err)
	}
	res, err := a.Backups.Run(ctx, "ops") // forgets the second, and prunes
	if err != nil {
		t.Fatalf("a backup whose prune met a damaged snapshot: %v", err)
	}
	if res.Forgotten != 1 || len(res.Damaged) != 1 || res.Damaged[0] != bad ||
		!strings.Contains(res.Warning, bad[:12]) || !strings.Contains(res.Warning, "delete "+file) {
		t.Errorf("result %+v; want the damaged %s named, with its file %s to delete", res, bad[:12], file)
	}
	if st := a.Backups.Status(ctx); st.LastError != "" || st.Warning != res.Warning {
		t.Errorf("status %+v; want its warning %q", st, res.Warning)
	}
	if !strings.Contains(log.String(), "backup prune deleted nothing") || !strings.Contains(log.String(), bad) {
		t.Errorf("the log does not name the damaged snapshot:\n%s", log.String())
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "backup.create"})
	if err != nil || len(recs) != 3 || recs[2].Outcome == audit.Failed || !strings.Contains(recs[2].Detail, "damaged snapshot(s) "+bad[:12]) {
		t.Errorf("audit records %+v, %v; want the last naming %s", recs, err, bad[:12])
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("retention removed the damaged snapshot: %v", err)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	res, err = a.Backups.Run(ctx, "ops")
	if err != nil || len(res.Damaged) != 0 || res.Warning != "" || res.PrunedBytes == 0 {
		t.Fatalf("a backup once the damaged file is gone = %+v, %v; want a prune that freed its objects", res, err)
	}
	if st := a.Backups.Status(ctx); st.Warning != "" {
		t.Errorf("the warning outlived the damaged snapshot: %q", st.Warning)
	}
}
