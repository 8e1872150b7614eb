package app

import (
	"context"
	"os"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestBackupFailureIsCritical: a failed backup goes to the channels
// taking backup.failed with severity critical, as docs/backup.md says; it
// went out as an error (severity 1). (Its audit record: TestBackupErrors.)
func TestBackupFailureIsCritical(t *testing.T) {
	t.Parallel()
	repo := initRepo(t, backupKey)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-",
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off"}})
	cfg, err := config.Parse([]byte("version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"http://127.0.0.1:9/hook\", events: [backup.failed]}\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a.useConfig("shop", cfg, nil)
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Backups.Run(ctx, "ops"); err == nil {
		t.Fatal("a backup into a removed repository succeeded")
	}
	dels, err := a.Notify.Deliveries(ctx, "", 10)
	if err != nil || len(dels) != 1 || dels[0].Event != "backup.failed" || dels[0].Severity != notify.Critical {
		t.Fatalf("deliveries: %+v, %v; want one backup.failed, critical", dels, err)
	}
}
