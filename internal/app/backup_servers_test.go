package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// startServerOn starts a server on dir whose backups (on request) keep
// only its newest snapshot.
func startServerOn(t *testing.T, dir, repo string, log *bytes.Buffer) *App {
	t.Helper()
	return startOpts(t, Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(log, nil)),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off", KeepWithin: time.Nanosecond}})
}

// backUp takes a backup on a and returns its snapshot.
func backUp(t *testing.T, a *App) backup.Summary {
	t.Helper()
	res, err := a.Backups.Run(context.Background(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	return res.Snapshot
}

// TestRestoreDrillKeepsProductionSnapshots is F4 of the s26 dogfood: a
// restore drill started on the production repository with a short
// retention forgot every production snapshot, and became "latest". Each
// server now ages out only its own snapshots, a restored data dir is
// another server, and a snapshot from before servers were recorded is
// forgotten by none.
func TestRestoreDrillKeepsProductionSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	legacy := legacySnapshot(t, repo)
	var log bytes.Buffer
	prod := startServerOn(t, t.TempDir(), repo, &log)
	deployPage(t, prod, "production", "<title>production</title>")
	backUp(t, prod)
	p2 := backUp(t, prod)

	drill := startServerOn(t, restoreLatest(t, repo), repo, &log)
	if st := drill.Backups.Status(ctx); st.LastSnapshot == p2.ID {
		t.Errorf("the drill's status before its first backup: last snapshot %s, production's", st.LastSnapshot)
	}
	backUp(t, drill)
	d2 := backUp(t, drill)
	if d2.Server == "" || d2.Server == p2.Server {
		t.Fatalf("the drill's snapshot has server %q, production's %q: want two identities", d2.Server, p2.Server)
	}
	p3 := backUp(t, prod)

	list, err := prod.Backups.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range list {
		got[s.ID] = s.Server
	}
	want := map[string]string{p3.ID: p2.Server, d2.ID: d2.Server, legacy: ""}
	if len(got) != len(want) {
		t.Fatalf("the repository holds %v, want production's newest, the drill's newest and the old-format one: %v", got, want)
	}
	for id, srv := range want {
		if s, ok := got[id]; !ok || s != srv {
			t.Errorf("snapshot %s of server %q: listed %v (server %q)", id[:12], srv, ok, s)
		}
	}
	if st := prod.Backups.Status(ctx); st.LastSnapshot != p3.ID {
		t.Errorf("production's last snapshot %s, want its own %s", st.LastSnapshot, p3.ID[:12])
	}
}

// legacySnapshot stores a snapshot in the format taken before servers
// were recorded (no "server" member) and returns its id.
func legacySnapshot(t *testing.T, repo string) string {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "roles.yaml"), []byte("roles: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := backup.Open(ctx, repo, []byte(backupKey))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Create(ctx, backup.CreateOptions{DataDir: data, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// TestBackupNamesCorruptBlob is F2 of the s26 dogfood: a blob whose bytes
// no longer matched its digest was backed up and "restore test passed".
// The backup now leaves it out, fails naming it and the deployments using
// it, and says so in the status and the log.
func TestBackupNamesCorruptBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	dir := t.TempDir()
	a := startServerOn(t, dir, repo, &log)
	d := deployPage(t, a, "production", "<h1>LOCAL UNTRACKED</h1>")
	hex := strings.TrimPrefix(d.String(), "sha256:")
	rel := "blobs/sha256/" + hex[:2] + "/" + hex
	flipByte(t, filepath.Join(dir, filepath.FromSlash(rel)))

	_, err := a.Backups.Run(ctx, "ops")
	if err == nil {
		t.Fatal("a backup with a corrupt blob succeeded")
	}
	for _, want := range []string{rel, "shop/production deployment "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not name %q:\n%s", want, log.String())
		}
	}
	if st := a.Backups.Status(ctx); !strings.Contains(st.LastError, rel) {
		t.Errorf("status last error %q, want it to name %s", st.LastError, rel)
	}
	list, err := a.Backups.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %+v, %v; want the snapshot of everything else", list, err)
	}
}

// flipByte alters one byte of the file at p, as bit rot would.
func flipByte(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 0x20
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
