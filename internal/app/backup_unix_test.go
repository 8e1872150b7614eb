//go:build unix

package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestBackupRetentionWaitsForReaders: when a listing or a restore holds
// the repository, a backup still succeeds and leaves retention to the next
// one, which applies it.
func TestBackupRetentionWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	repo := initRepo(t, backupKey)
	var log bytes.Buffer
	a := startOpts(t, Options{DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off", KeepWithin: time.Nanosecond}})
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
