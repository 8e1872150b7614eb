package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The backup commands that go through the server: create, status, list.

func newBackupCreateCmd(g *Globals) *cobra.Command {
	rf := &repoFlags{}
	cmd := &cobra.Command{
		Use: "create",
		Example: `  phoenix backup create --server https://phoenix.example.com
  phoenix backup create --data /var/lib/phoenix --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key`,
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
	if err := noDataDir(g); err != nil {
		return err
	}
	var extra func(*app.Options)
	if rf.repo != "" {
		key, err := backupKey(g, rf.keyFile, false)
		if err != nil {
			return err
		}
		extra = func(o *app.Options) { o.Backup = app.BackupOptions{Repo: rf.repo, Key: key, Schedule: "off"} }
	}
	t, err := g.connectWith(ctx, extra)
	if errors.Is(err, backup.ErrWrongKey) && rf.repo != "" {
		// The server started for this command refused the --key-file it
		// was given: said as 'phoenix backup list --repo' says it.
		return repoUserError(rf.repo, err)
	}
	if err != nil {
		return err
	}
	defer t.close()
	if rf.repo == "" && t.inProcess {
		// The server started for this command has no repository: asking it
		// would answer "start it with --backup-repo", a server flag.
		return usererr.New(usererr.Invalid, "no server runs on %s, and the one started for this backup needs a repository", g.Data).
			WithHint(repoFlagsHint + ", or start 'phoenix server --backup-repo DIR' on this data dir")
	}
	if rf.repo != "" && !t.inProcess {
		fmt.Fprintln(g.Stderr, "note: a running server holds the data dir: it backs up into its own repository (phoenix server --backup-repo); --repo and --key-file apply only when no server runs")
	}
	fmt.Fprintln(g.Stderr, "taking a backup…")
	var res app.BackupResult
	if err := t.client.Do(ctx, "POST", client.Path("backups"), nil, &res); err != nil {
		return err
	}
	return g.emit(res, func(w io.Writer) error {
		s := res.Snapshot
		_, err := fmt.Fprintf(w, "snapshot %s: %d files, %s (%s new), restore test %s, %d old snapshot(s) forgotten, %.1fs\n",
			shortID(s.ID), s.Files, humanBytes(s.Size), humanBytes(s.Added), res.RestoreTest, res.Forgotten, res.DurationSecs)
		if err == nil && res.Warning != "" {
			_, err = fmt.Fprintf(w, "warning: %s\n", res.Warning)
		}
		return err
	})
}

func newBackupStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "status",
		Example: `  phoenix backup status
  phoenix backup status -o json`,
		Short: "When the server's last backup succeeded, whether the last attempt failed, and when the next is due",
		Long: `Show when the server's last backup succeeded, when and why its last attempt
failed, and when the next is due. The exit code is for a health check (cron, a
monitoring agent): 0 when the backups are fine (or none is due yet), 1 when they
need someone: the server takes no backups (started without --backup-repo), the
last attempt failed (FAILING) or two scheduled runs passed without a success
(OVERDUE). The status is printed first in every case, with -o json too; the
reason is then an error line on stderr (docs/backup.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := g.backupServer(cmd.Context(), "to ask how its backups are doing",
				"give the server's --data, or its --server URL (with PHOENIX_TOKEN); without a server, 'phoenix backup list --repo DIR --key-file FILE' lists a repository's snapshots")
			if err != nil {
				return err
			}
			defer t.close()
			var st app.BackupStatus
			if err := t.client.Do(cmd.Context(), "GET", client.Path("backups", "status"), nil, &st); err != nil {
				return err
			}
			err = g.emit(st, func(w io.Writer) error {
				if st.Repo == "" {
					return nil // the error below says so
				}
				tb := newTable(w, "repository", "schedule", "keep", "last success", "last failure", "next run", "state")
				tb.row(st.Repo, st.Schedule, st.KeepWithin, whenPtr(st.LastSuccess), whenPtr(st.LastFailure), whenPtr(st.NextRun), backupState(st))
				if err := tb.flush(); err != nil {
					return err
				}
				if st.LastError != "" {
					fmt.Fprintf(w, "last attempt failed: %s\n", st.LastError)
				}
				if st.Warning != "" {
					fmt.Fprintf(w, "warning: %s\n", st.Warning)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return backupTrouble(st)
		},
	}
}

// backupTrouble is backup status's error when the backups need someone,
// so that its exit code alone (1) tells a health check: the server takes
// none, the last attempt failed, or they are overdue. A running backup
// changes nothing until it succeeds.
func backupTrouble(st app.BackupStatus) error {
	overdue := ""
	if st.Overdue {
		overdue = ", and they are overdue"
	}
	switch {
	case st.Repo == "":
		return usererr.New(usererr.Unavailable, "this server takes no backups").
			WithHint("start it with --backup-repo DIR (made by 'phoenix backup init') and --backup-key-file FILE (docs/backup.md)")
	case st.LastError != "":
		return usererr.New(usererr.Failed, "backups are failing: the last attempt, at %s, failed%s", whenPtr(st.LastFailure), overdue).
			WithHint("fix what it says (last attempt failed, or last_error), then 'phoenix backup create' tries again now")
	case st.Overdue:
		since := "since the server started"
		if st.LastSuccess != nil {
			since = "since " + whenPtr(st.LastSuccess)
		}
		return usererr.New(usererr.Failed, "backups are overdue: two scheduled runs passed with no successful backup %s", since).
			WithHint("'phoenix backup create' takes one now (docs/backup.md)")
	}
	return nil
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
		Use: "list",
		Example: `  phoenix backup list
  phoenix backup list --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key -o json`,
		Short: "List snapshots, newest first (the server's repository, or --repo)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := listSnapshots(cmd.Context(), g, rf)
			var damaged *backup.DamagedError
			if err != nil && !errors.As(err, &damaged) {
				return err
			}
			if err := g.emit(list, func(w io.Writer) error {
				tb := newTable(w, "snapshot", "taken", "server", "host", "version", "files", "size", "new")
				for _, s := range list {
					tb.row(shortID(s.ID), s.Time.Local().Format(time.DateTime), serverName(s.Server), s.Host, s.Version, s.Files, humanBytes(s.Size), humanBytes(s.Added))
				}
				return tb.flush()
			}); err != nil || damaged == nil {
				return err
			}
			return damagedError(damaged, rf.repo)
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
	t, err := g.backupServer(ctx, "to list its repository", repoFlagsHint)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var all []backup.Summary
	if err := t.client.Do(ctx, "GET", client.Path("backups"), nil, &all); err != nil {
		return nil, err
	}
	var list []backup.Summary // the server lists the damaged ones after the others
	var damaged []string
	for _, s := range all {
		if s.Damaged {
			damaged = append(damaged, s.ID)
		} else {
			list = append(list, s)
		}
	}
	if len(damaged) > 0 {
		return list, &backup.DamagedError{IDs: damaged}
	}
	return list, nil
}

// backupServer connects to the server that holds --data (or to
// --server) for a command whose answer is that server's own: its
// repository, its schedule, its last attempts. One started in-process for
// the command has none of them and would answer "this server takes no
// backups" (exit 0) or "start it with --backup-repo", a server flag, to a
// user who started nothing: the command is refused instead (exit 2),
// saying what it meant to do and, in hint, how else to do it.
func (g *Globals) backupServer(ctx context.Context, doing, hint string) (*target, error) {
	if err := noDataDir(g); err != nil {
		return nil, err
	}
	t, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	if t.inProcess {
		t.close()
		return nil, usererr.New(usererr.Invalid, "no server runs on %s %s", g.Data, doing).WithHint("%s", hint)
	}
	return t, nil
}

// repoFlagsHint says how a backup command reads a repository itself.
const repoFlagsHint = "pass --repo DIR and --key-file FILE (or set PHOENIX_BACKUP_REPO and PHOENIX_BACKUP_KEY_FILE)"

// noDataDir refuses a backup command that goes through the server on
// --data when no --server is given and --data holds nothing (no folder, or
// an empty one), before anything starts: the server it would start
// in-process would make a new, empty Phoenix there. On a machine being
// recovered that is the folder the restore is for, which 'phoenix backup
// restore --to' then refused as not empty; and 'create --repo' added that
// empty server to the repository as its latest snapshot.
func noDataDir(g *Globals) error {
	if g.Server != "" {
		return nil
	}
	if names, err := os.ReadDir(g.Data); !errors.Is(err, fs.ErrNotExist) && (err != nil || len(names) > 0) {
		return nil
	}
	return usererr.New(usererr.Usage, "no phoenix data dir at %s (%s): no server to ask, nothing to back up", g.Data, g.flagOrEnv("data")).
		WithHint("give the server's data dir (--data or PHOENIX_DATA) or its --server URL; to restore into %s: phoenix backup restore latest --repo DIR --key-file FILE --to %s", g.Data, g.Data)
}
