package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// BackupKeyEnv may hold a backup repository's key (like PHOENIX_MASTER_KEY
// for the vault); it is removed from the environment once read.
const BackupKeyEnv = "PHOENIX_BACKUP_KEY"

// repoFlags are the flags of the commands that open a repository
// themselves (init, verify, restore, and list or create with --repo).
type repoFlags struct {
	repo    string
	keyFile string
}

func addRepoFlags(cmd *cobra.Command, rf *repoFlags) {
	f := cmd.Flags()
	f.StringVar(&rf.repo, "repo", "", "backup repository folder (default $PHOENIX_BACKUP_REPO)")
	f.StringVar(&rf.keyFile, "key-file", "", "file holding the repository key, mode 0600 (default $PHOENIX_BACKUP_KEY_FILE, else the key in $"+BackupKeyEnv+")")
	pre := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		rf.fromEnv()
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
}

// fromEnv fills unset flags from the variables the server's --backup-repo
// and --backup-key-file read, so one environment serves both.
func (rf *repoFlags) fromEnv() {
	if rf.repo == "" {
		rf.repo = os.Getenv("PHOENIX_BACKUP_REPO")
	}
	if rf.keyFile == "" {
		rf.keyFile = os.Getenv("PHOENIX_BACKUP_KEY_FILE")
	}
}

func newBackupCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up the server's state, verify backups and restore them",
		Long: `A backup is a snapshot of the whole data dir: a consistent copy of the database
(taken while the server runs), the artifact blobs, the keys and the role and vault
policy files. Snapshots go into a repository folder, encrypted (AES-256-GCM under
a key derived from your key with argon2id) and deduplicated: a blob already in an
earlier snapshot is stored once.

The server takes a backup on its --backup-schedule into --backup-repo, tests that
each one restores (the database passes an integrity check and the audit chain
verifies), applies --backup-keep and reports failures to the channels that
subscribe to backup.failed. 'phoenix backup create' asks it for one now.

Keep the key somewhere other than the machine it protects: without it no snapshot
can be read, and with it anyone holding the repository can read everything.`,
		Example: `  phoenix backup init --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix server --backup-repo /mnt/backups/phoenix --backup-key-file ~/.config/phoenix/backup.key
  phoenix backup create
  phoenix backup list --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix backup verify latest --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix backup restore latest --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key --to /var/lib/phoenix-restored`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBackupInitCmd(g), newBackupCreateCmd(g), newBackupStatusCmd(g), newBackupListCmd(g),
		newBackupVerifyCmd(g), newBackupRestoreCmd(g))
	return cmd
}

// backupKey returns the repository key from keyFile or PHOENIX_BACKUP_KEY.
// With create, a missing keyFile is made with a new random key.
func backupKey(g *Globals, keyFile string, create bool) (vault.Secret, error) {
	if key, ok := vault.MasterKeyFromEnv(BackupKeyEnv); ok {
		os.Unsetenv(BackupKeyEnv)
		return key, nil
	}
	if keyFile == "" {
		return vault.Secret{}, usererr.New(usererr.Usage, "no backup key").
			WithHint("pass --key-file FILE or set " + BackupKeyEnv)
	}
	if _, err := os.Stat(keyFile); create && errors.Is(err, os.ErrNotExist) {
		key, err := vault.GenerateMasterKey()
		if err != nil {
			return key, err
		}
		if err := vault.WriteMasterKeyFile(keyFile, key); err != nil {
			return key, usererr.Wrap(usererr.Usage, err, err.Error())
		}
		fmt.Fprintf(g.Stderr, "wrote a new backup key to %s: keep a copy away from this machine, no backup can be read without it\n", keyFile)
		return key, nil
	}
	key, err := vault.LoadMasterKeyFile(keyFile)
	if err != nil {
		return key, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	return key, nil
}

// openRepo opens the repository of rf with its key.
func openRepo(ctx context.Context, g *Globals, rf *repoFlags) (*backup.Repo, error) {
	if rf.repo == "" {
		return nil, usererr.New(usererr.Usage, "no backup repository").WithHint("pass --repo DIR")
	}
	key, err := backupKey(g, rf.keyFile, false)
	if err != nil {
		return nil, err
	}
	r, err := backup.Open(ctx, rf.repo, key.Bytes())
	return r, repoUserError(rf.repo, err)
}

// repoUserError maps the repository's errors to exit codes and hints.
func repoUserError(repo string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backup.ErrWrongKey):
		return usererr.Wrap(usererr.Unauthorized, err, "the key does not open the backup repository "+repo).
			WithHint("give the key the repository was made with (--key-file or " + BackupKeyEnv + ")")
	case errors.Is(err, backup.ErrNotRepo):
		return usererr.Wrap(usererr.NotFound, err, "no backup repository at "+repo).WithHint("make one with 'phoenix backup init --repo %s'", repo)
	case errors.Is(err, backup.ErrExists):
		return usererr.Wrap(usererr.Conflict, err, repo+" is not empty").WithHint("init makes a repository in an empty or new folder")
	case errors.Is(err, backup.ErrNotFound), errors.Is(err, backup.ErrAmbiguous):
		return usererr.Wrap(usererr.NotFound, err, err.Error()).WithHint("'phoenix backup list --repo %s' shows the snapshots", repo)
	case errors.Is(err, backup.ErrLocked):
		return usererr.Wrap(usererr.Conflict, err, "the backup repository "+repo+" is busy (a backup, retention or restore holds it)").
			WithHint("try again when it is done")
	case errors.Is(err, backup.ErrTargetNotEmpty):
		return usererr.Wrap(usererr.Conflict, err, err.Error()).WithHint("restore into a new or empty folder, then point --data at it")
	}
	return err
}

func newBackupInitCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Make a new, empty backup repository (and a key file when --key-file does not exist)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rf.repo == "" {
				return usererr.New(usererr.Usage, "no backup repository").WithHint("pass --repo DIR")
			}
			key, err := backupKey(g, rf.keyFile, true)
			if err != nil {
				return err
			}
			r, err := backup.Init(cmd.Context(), rf.repo, key.Bytes(), backup.DefaultKDF)
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			defer r.Close()
			return g.emit(map[string]string{"repo": rf.repo, "id": r.ID()}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "backup repository %s made at %s\n", r.ID(), rf.repo)
				return err
			})
		},
	}
	addRepoFlags(cmd, rf)
	return cmd
}

func newBackupCreateCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Take a backup now (through the server; --repo for one started just for this)",
		Long: `Ask the server to take a backup into its repository now, restore-test it and apply
its retention; the command waits until it is done. When no server holds --data,
one is started in-process for the backup, with --repo and --key-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackupCreate(cmd.Context(), g, rf) },
	}
	addRepoFlags(cmd, rf)
	return cmd
}

func runBackupCreate(ctx context.Context, g *Globals, rf *repoFlags) error {
	var extra func(*app.Options)
	if rf.repo != "" {
		key, err := backupKey(g, rf.keyFile, false)
		if err != nil {
			return err
		}
		extra = func(o *app.Options) { o.Backup = app.BackupOptions{Repo: rf.repo, Key: key, Schedule: "off"} }
	}
	t, err := g.connectWith(ctx, extra)
	if err != nil {
		return err
	}
	defer t.close()
	fmt.Fprintln(g.Stderr, "taking a backup…")
	var res app.BackupResult
	if err := t.client.Do(ctx, "POST", client.Path("backups"), nil, &res); err != nil {
		return err
	}
	return g.emit(res, func(w io.Writer) error {
		s := res.Snapshot
		_, err := fmt.Fprintf(w, "snapshot %s: %d files, %s (%s new), restore test %s, %d old snapshot(s) forgotten, %.1fs\n",
			shortID(s.ID), s.Files, humanBytes(s.Size), humanBytes(s.Added), res.RestoreTest, res.Forgotten, res.DurationSecs)
		return err
	})
}

func newBackupStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "When the server's last backup succeeded, whether the last attempt failed, and when the next is due",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer t.close()
			var st app.BackupStatus
			if err := t.client.Do(cmd.Context(), "GET", client.Path("backups", "status"), nil, &st); err != nil {
				return err
			}
			return g.emit(st, func(w io.Writer) error {
				if st.Repo == "" {
					_, err := fmt.Fprintln(w, "this server takes no backups (start it with --backup-repo)")
					return err
				}
				tb := newTable(w, "repository", "schedule", "keep", "last success", "last failure", "next run", "state")
				tb.row(st.Repo, st.Schedule, st.KeepWithin, whenPtr(st.LastSuccess), whenPtr(st.LastFailure), whenPtr(st.NextRun), backupState(st))
				if err := tb.flush(); err != nil {
					return err
				}
				if st.LastError != "" {
					fmt.Fprintf(w, "last attempt failed: %s\n", st.LastError)
				}
				return nil
			})
		},
	}
}

// whenPtr formats an optional time for a table.
func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// backupState is the one word a table shows for the backups' health.
func backupState(st app.BackupStatus) string {
	switch {
	case st.Running:
		return "running"
	case st.LastError != "":
		return "FAILING"
	case st.Overdue:
		return "OVERDUE"
	case st.LastSuccess == nil:
		return "no backup yet"
	}
	return "ok"
}

func newBackupListCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List snapshots, newest first (the server's repository, or --repo)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := listSnapshots(cmd.Context(), g, rf)
			if err != nil {
				return err
			}
			return g.emit(list, func(w io.Writer) error {
				tb := newTable(w, "snapshot", "taken", "host", "version", "files", "size", "new")
				for _, s := range list {
					tb.row(shortID(s.ID), s.Time.Local().Format(time.DateTime), s.Host, s.Version, s.Files, humanBytes(s.Size), humanBytes(s.Added))
				}
				return tb.flush()
			})
		},
	}
	addRepoFlags(cmd, rf)
	return cmd
}

func listSnapshots(ctx context.Context, g *Globals, rf *repoFlags) ([]backup.Summary, error) {
	if rf.repo != "" {
		r, err := openRepo(ctx, g, rf)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return r.List(ctx)
	}
	t, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var list []backup.Summary
	return list, t.client.Do(ctx, "GET", client.Path("backups"), nil, &list)
}

func newBackupVerifyCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use:   "verify [SNAPSHOT]",
		Short: "Read and decrypt every file of a snapshot (default latest) and check its digest",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := "latest"
			if len(args) == 1 {
				id = args[0]
			}
			r, err := openRepo(cmd.Context(), g, rf)
			if err != nil {
				return err
			}
			defer r.Close()
			b := newBar(g.Stderr, "verify")
			rep, err := r.Verify(cmd.Context(), id, b.set)
			b.Done()
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			if err := g.emit(rep, func(w io.Writer) error {
				fmt.Fprintf(w, "snapshot %s: %d files, %s read\n", shortID(rep.Snapshot), rep.Files, humanBytes(rep.Bytes))
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "  problem: %s\n", p)
				}
				return nil
			}); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return usererr.New(usererr.Invalid, "snapshot %s has %d problem(s)", shortID(rep.Snapshot), len(rep.Problems)).
					WithHint("restore from another snapshot ('phoenix backup list'); the repository may be damaged")
			}
			return nil
		},
	}
	addRepoFlags(cmd, rf)
	return cmd
}

func newBackupRestoreCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	var to string
	cmd := &cobra.Command{
		Use:   "restore SNAPSHOT --to DIR",
		Short: "Restore a snapshot (or latest) into a new data dir",
		Long: `Restore a snapshot into --to, which must not exist or be empty. Files are checked
against their digests as they are written, into a temporary folder that becomes
--to only when everything is in place. Start the server on it with --data DIR
(and the vault's master key, which is not in any backup).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usererr.New(usererr.Usage, "no target folder").WithHint("pass --to DIR (a new or empty folder)")
			}
			r, err := openRepo(cmd.Context(), g, rf)
			if err != nil {
				return err
			}
			defer r.Close()
			b := newBar(g.Stderr, "restore")
			snap, err := r.Restore(cmd.Context(), args[0], to, b.set)
			b.Done()
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			res := map[string]any{"snapshot": snap.ID, "files": len(snap.Files), "bytes": snap.Size, "to": to}
			return g.emit(res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "restored snapshot %s (%d files, %s) into %s\nstart it with: phoenix server --data %s\n",
					shortID(snap.ID), len(snap.Files), humanBytes(snap.Size), to, to)
				return err
			})
		},
	}
	addRepoFlags(cmd, rf)
	cmd.Flags().StringVar(&to, "to", "", "new data dir to restore into (must not exist or be empty)")
	return cmd
}

// backupServerOptions reads the server's backup flags.
func backupServerOptions(o *serverOptions) (app.BackupOptions, error) {
	bo := app.BackupOptions{Repo: o.backupRepo, Schedule: o.backupSchedule, SkipRestoreTest: o.backupNoRestoreTest}
	if o.backupKeep != "" {
		d, err := config.ParseDuration(o.backupKeep)
		if err != nil || d <= 0 {
			return bo, usererr.New(usererr.Usage, "--backup-keep %q is not a positive duration", o.backupKeep).WithHint(`write e.g. "90d" or "12w"`)
		}
		bo.KeepWithin = d
	}
	if bo.Repo == "" {
		return bo, nil
	}
	key, ok := vault.MasterKeyFromEnv(BackupKeyEnv)
	os.Unsetenv(BackupKeyEnv)
	if !ok {
		if o.backupKeyFile == "" {
			return bo, usererr.New(usererr.Usage, "--backup-repo needs the repository's key").
				WithHint("pass --backup-key-file FILE or set " + BackupKeyEnv)
		}
		var err error
		if key, err = vault.LoadMasterKeyFile(o.backupKeyFile); err != nil {
			return bo, usererr.Wrap(usererr.Usage, err, err.Error())
		}
	}
	bo.Key = key
	return bo, nil
}

// shortID abbreviates a snapshot id (any unique prefix of 4 or more
// characters names it in verify and restore).
func shortID(id string) string { return id[:min(12, len(id))] }
