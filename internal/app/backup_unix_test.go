//go:build unix

package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestBackupRetentionWaitsForReaders: when a listing or a restore holds
// the repository, a backup still succeeds and leaves retention to the next
// one, which applies it.
func TestBackupRetentionWaitsForReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startKeepingNewest(t, repo, &log)
	if _, err := a.Backups.Run(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(filepath.Join(repo, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(reader.Fd()), syscall.LOCK_SH); err != nil { // another process reading
		t.Fatal(err)
	}
	res, err := a.Backups.Run(ctx, "ops")
	if err != nil || res.Forgotten != 0 || !strings.Contains(log.String(), "retention skipped") {
		t.Fatalf("backup next to a reader: %+v, %v\n%s", res, err, log.String())
	}
	reader.Close()
	res, err = a.Backups.Run(ctx, "ops")
	if err != nil || res.Forgotten != 2 || res.PrunedBytes == 0 {
		t.Fatalf("backup after the reader left: %+v, %v", res, err)
	}
	if list, _ := a.Backups.List(ctx); len(list) != 1 {
		t.Fatalf("%d snapshots kept, want the newest only", len(list))
	}
}

// TestBackupPgDumpFailureSaysWhy: 'phoenix backup create' on a
// PostgreSQL-backed server whose pg_dump fails (here a version mismatch)
// answers 503 with pg_dump's reason, as 'phoenix backup status' shows it,
// not a bare internal error; neither the database URL nor its password
// shows, even when pg_dump quotes them.
func TestBackupPgDumpFailureSaysWhy(t *testing.T) {
	ctx := context.Background()
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"pg_dump: error: aborting because of server version mismatch ($*; $PGPASSWORD)\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var log bytes.Buffer
	a := startOpts(t, Options{DataDir: t.TempDir(), DatabaseURL: dsn, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Backup: BackupOptions{Repo: initRepo(t, backupKey), Key: vault.SecretString(backupKey), Schedule: "off"}})
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	err = client.New(a.APIURL(), tok).Do(ctx, "POST", client.Path("backups"), nil, nil)
	msg := fmt.Sprint(err)
	if usererr.KindOf(err) != usererr.Unavailable || !strings.Contains(msg, "server version mismatch") {
		t.Fatalf("backup create: %v (kind %v)", err, usererr.KindOf(err))
	}
	host := strings.SplitN(strings.SplitN(dsn, "@", 2)[1], "/", 2)[0] // 127.0.0.1:PORT
	st := a.Backups.Status(context.Background())
	for _, shown := range []string{msg, st.LastError} {
		for _, secret := range []string{dbPassword, "postgres://", host} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shows %q", shown, secret)
			}
		}
	}
	if !strings.Contains(st.LastError, "server version mismatch") || !strings.Contains(log.String(), "server version mismatch") {
		t.Errorf("status %q; the log lacks the reason:\n%s", st.LastError, log.String())
	}
}
