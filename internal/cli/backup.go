package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/backup/mirror"
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
	// The variables the server's --backup-repo and --backup-key-file read,
	// so one environment serves both.
	_ = f.SetAnnotation("repo", envAlias, []string{"PHOENIX_BACKUP_REPO"})
	_ = f.SetAnnotation("key-file", envAlias, []string{"PHOENIX_BACKUP_KEY_FILE"})
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
subscribe to backup.failed. 'phoenix backup create' asks it for one now, and
'phoenix backup status' says how the backups are doing. With --backup-mirror the
server also copies the repository to S3-compatible storage after each backup;
'phoenix backup pull' fetches that copy on a new machine.

Keep the key somewhere other than the machine it protects: without it no snapshot
can be read, and with it anyone holding the repository can read everything.`,
		Example: `  phoenix backup init --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix server --backup-repo /mnt/backups/phoenix --backup-key-file ~/.config/phoenix/backup.key
  phoenix backup create
  phoenix backup status
  phoenix backup list --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix backup verify latest --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key
  phoenix backup restore latest --repo /mnt/backups/phoenix --key-file ~/.config/phoenix/backup.key --to /var/lib/phoenix-restored
  phoenix backup pull --from s3://offsite/phoenix --to /srv/phoenix-repo   # on a new machine`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBackupInitCmd(g), newBackupCreateCmd(g), newBackupStatusCmd(g), newBackupListCmd(g),
		newBackupVerifyCmd(g), newBackupRestoreCmd(g), newBackupPullCmd(g))
	return cmd
}

// backupKey returns the repository key from keyFile or PHOENIX_BACKUP_KEY.
// With create, a missing keyFile is made with a new random key.
func backupKey(g *Globals, keyFile string, create bool) (vault.Secret, error) {
	if create && keyFile != "" && os.Getenv(BackupKeyEnv) == "" && !exists(keyFile) {
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
	key, err := takeKey(BackupKeyEnv, keyFile)
	if err == nil && key.IsZero() {
		err = usererr.New(usererr.Usage, "no backup key").WithHint("pass --key-file FILE or set " + BackupKeyEnv)
	}
	return key, err
}

// exists reports whether path names something (a stat error other than
// "does not exist" counts as existing: loading it then says what is wrong).
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
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

// repoUserError maps the repository's errors to exit codes and hints. A
// key that does not open the repository is a usage error (exit 2), as it
// is for a server started with it (phoenix server --backup-key-file, or
// the one 'phoenix backup create --repo --key-file' starts): the command
// fails again until it is given the right key.
func repoUserError(repo string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backup.ErrWrongKey):
		return usererr.Wrap(usererr.Usage, err, "the key does not open the backup repository "+repo).
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
	case errors.Is(err, backup.ErrMountPoint):
		return mountPointError(err, "restore")
	}
	return err
}

func newBackupInitCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use:     "init",
		Example: `  phoenix backup init --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key`,
		Short:   "Make a new, empty backup repository (and a key file when --key-file does not exist)",
		Args:    cobra.NoArgs,
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

// backupServerOptions reads the server's backup flags; a refused value is
// named by name (Globals.flagOrEnv: the flag, or its PHOENIX_* variable).
func backupServerOptions(o *serverOptions, name func(flag string) string) (app.BackupOptions, error) {
	bo := app.BackupOptions{Repo: o.backupRepo, Schedule: o.backupSchedule, SkipRestoreTest: o.backupNoRestoreTest}
	if o.backupKeep != "" {
		d, err := config.ParseDuration(o.backupKeep)
		if err != nil || d <= 0 {
			return bo, usererr.New(usererr.Usage, "%s %q is not a positive duration", name("backup-keep"), o.backupKeep).WithHint(`write e.g. "90d" or "12w"`)
		}
		bo.KeepWithin = d
	}
	if bo.Repo == "" {
		return bo, nil
	}
	key, err := takeKey(BackupKeyEnv, o.backupKeyFile)
	if err != nil {
		return bo, usererr.Wrap(usererr.Usage, err, name("backup-key-file")+": "+err.Error())
	}
	if key.IsZero() {
		return bo, usererr.New(usererr.Usage, "%s needs the repository's key", name("backup-repo")).
			WithHint("pass --backup-key-file FILE or set " + BackupKeyEnv)
	}
	bo.Key = key
	if s := o.backupSchedule; s != "off" {
		if _, err := config.ParseCron((&config.Backup{Frequency: s}).Schedule(), ""); err != nil {
			return bo, usererr.New(usererr.Usage, "%s %q: %v", name("backup-schedule"), s, err).
				WithHint(`use hourly, daily, weekly, monthly, off or a cron expression such as "0 2 * * *"`)
		}
	}
	if o.backupMirror.url != "" {
		if bo.Mirror, err = o.backupMirror.open(name, "backup-mirror", "backup-mirror-endpoint"); err != nil {
			return bo, err
		}
	}
	return bo, nil
}

// mirrorFlags say where a repository's off-site copy is.
type mirrorFlags struct{ s3Flags }

// open returns the mirror, with credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (awsKeys); an error names by name
// (Globals.flagOrEnv) the flag of the value refused: urlFlag or
// endpointFlag.
func (mf mirrorFlags) open(name func(flag string) string, urlFlag, endpointFlag string) (*mirror.S3, error) {
	const hint = "write s3://bucket/prefix; for S3-compatible storage add its endpoint"
	if err := mf.check(name, urlFlag, endpointFlag); err != nil {
		return nil, err.WithHint(hint)
	}
	m, err := mirror.New(mf.config())
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, name(urlFlag)+": "+err.Error()).WithHint(hint)
	}
	return m, nil
}

// mountPointError says that --to is a mount point: the command makes its
// folder beside the target and renames it into place, which a mount point
// cannot take (the folder would also be on the disk the mount hides).
func mountPointError(err error, verb string) error {
	return usererr.Wrap(usererr.Conflict, err, err.Error()).
		WithHint("%s into a new folder on the mounted disk (--to MOUNT/data), then point --data at it", verb)
}

// shortID abbreviates a snapshot id (any unique prefix of 4 or more
// characters names it in verify and restore).
func shortID(id string) string { return id[:min(12, len(id))] }
