package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The backup commands that read a repository themselves: verify, restore.

func newBackupVerifyCmd(g *Globals) *cobra.Command {
	rf, lf := &repoFlags{}, &latestFlags{}
	cmd := &cobra.Command{
		Use: "verify [SNAPSHOT]",
		Example: `  phoenix backup verify --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key
  phoenix backup verify 87f85354c908 --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key`,
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
			warnDamaged(cmd.Context(), g, r, id)
			if id, err = resolveLatest(cmd.Context(), g, r, id, *lf); err != nil {
				return repoUserError(rf.repo, err)
			}
			b := newBar(g.Stderr, "verify")
			rep, err := r.Verify(cmd.Context(), id, b.set)
			b.Done()
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			if err := g.emit(rep, func(w io.Writer) error {
				verdict := "every file decrypted and matches its digest"
				if len(rep.Problems) > 0 {
					verdict = fmt.Sprintf("%d problem(s)", len(rep.Problems))
				}
				fmt.Fprintf(w, "snapshot %s: %d files, %s read: %s\n", shortID(rep.Snapshot), rep.Files, humanBytes(rep.Bytes), verdict)
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "  problem: %s\n", p)
				}
				return nil
			}); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return usererr.New(usererr.Failed, "snapshot %s has %d problem(s)", shortID(rep.Snapshot), len(rep.Problems)).
					WithHint("restore from another snapshot ('phoenix backup list'); the repository may be damaged")
			}
			return nil
		},
	}
	addRepoFlags(cmd, rf)
	addLatestFlags(cmd, lf)
	return cmd
}

func newBackupRestoreCmd(g *Globals) *cobra.Command {
	rf, lf := &repoFlags{}, &latestFlags{}
	var to string
	cmd := &cobra.Command{
		Use: "restore SNAPSHOT --to DIR",
		Example: `  phoenix backup list --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key
  phoenix backup restore 87f85354c908 --to /var/lib/phoenix-restored --repo /mnt/backups/phoenix --key-file /etc/phoenix/backup.key`,
		Short: "Restore a snapshot (or latest) into a new data dir",
		Long: `Restore a snapshot into --to, which must not exist or be empty. Files are checked
against their digests as they are written, into a temporary folder that becomes
--to only when everything is in place. Start the server on it with --data DIR
(and the vault's master key, which is not in any backup). A snapshot of a server
on PostgreSQL holds its database as state.pgdump: load it into a new, empty
database with pg_restore and start with --data DIR --database-url URL; the
command prints the steps (docs/backup.md).`,
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
			warnDamaged(cmd.Context(), g, r, args[0])
			id, err := resolveLatest(cmd.Context(), g, r, args[0], *lf)
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			b := newBar(g.Stderr, "restore")
			snap, err := r.Restore(cmd.Context(), id, to, b.set)
			b.Done()
			if se, ok := errors.AsType[*backup.SpaceError](err); ok {
				return usererr.Wrap(usererr.Conflict, err, fmt.Sprintf("not enough free space to restore into %s: it needs %d bytes (%s), and the file system holding %s has %d bytes (%s) free; nothing was written",
					to, se.Needed, humanBytes(se.Needed), se.Path, se.Free, humanBytes(se.Free))).
					WithHint("free %s there, or restore onto a larger disk (--to)", humanBytes(se.Needed-se.Free))
			}
			if err != nil {
				return repoUserError(rf.repo, err)
			}
			res := map[string]any{"snapshot": snap.ID, "files": len(snap.Files), "bytes": snap.Size, "to": to}
			if dump := pgDumpOf(snap, to); dump != "" {
				res["pgdump"] = dump
			}
			return g.emit(res, func(w io.Writer) error { return restoredNext(w, snap, to) })
		},
	}
	addRepoFlags(cmd, rf)
	cmd.Flags().StringVar(&to, "to", "", "new data dir to restore into (must not exist or be empty)")
	addLatestFlags(cmd, lf)
	return cmd
}

// damagedError is the failure of a listing that found snapshots it cannot
// read (it lists the others): exit 1, and what to do about them.
func damagedError(d *backup.DamagedError, repo string) error {
	if repo == "" { // the server's repository, listed through it
		repo = "<repository>"
	}
	files := make([]string, len(d.IDs))
	for i, id := range d.IDs {
		files[i] = backup.SnapshotFile(repo, id)
	}
	return usererr.Wrap(usererr.Failed, d, d.Error()).
		WithHint("the others can be restored ('phoenix backup verify ID' checks one); a damaged snapshot is never aged out, and prune deletes no data while it is there: delete %s (docs/backup.md#a-damaged-snapshot)", strings.Join(files, " "))
}

// warnDamaged warns, before the latest snapshot is read, of snapshots that
// cannot be read: latest is then the newest of the others, and a damaged
// one may have been newer.
func warnDamaged(ctx context.Context, g *Globals, r *backup.Repo, id string) {
	if id != "latest" {
		return
	}
	var d *backup.DamagedError
	if _, err := r.List(ctx); errors.As(err, &d) {
		fmt.Fprintf(g.Stderr, "warning: %v; latest is the newest of the others\n", d)
	}
}

// restoredNext says what was restored and how to start a server on it:
// with --data alone, or, when the snapshot holds a PostgreSQL dump
// (state.pgdump) instead of state.db, after loading the dump into an
// empty database (docs/backup.md#postgresql).
func restoredNext(w io.Writer, snap *backup.Snapshot, to string) error {
	fmt.Fprintf(w, "restored snapshot %s (%d files, %s) into %s\n", shortID(snap.ID), len(snap.Files), humanBytes(snap.Size), to)
	dump := pgDumpOf(snap, to)
	if dump == "" {
		fmt.Fprintf(w, "start it with: phoenix server --data %s --master-key-file MASTER_KEY\n", to)
	} else {
		fmt.Fprintf(w, `its database is a PostgreSQL dump (%[2]s): load it into a new, empty database, then start the server on both
(replace HOST, the owner phoenix and the name phoenix_restored with yours):
  createdb -h HOST -U postgres --owner phoenix phoenix_restored
  pg_restore -h HOST -U phoenix --dbname phoenix_restored --no-owner %[2]s
  phoenix server --data %[1]s --database-url postgres://phoenix@HOST:5432/phoenix_restored --master-key-file MASTER_KEY
`, to, dump)
	}
	_, err := fmt.Fprintln(w, "the vault's master key is in no backup: without it (--master-key-file or PHOENIX_MASTER_KEY) the server "+
		"starts sealed, and deploys, channels reading secrets and audit checkpoints wait for 'phoenix vault unseal'")
	return err
}

// pgDumpOf is where the restored snapshot's PostgreSQL dump is, or "" when
// it holds none (a server on SQLite: state.db).
func pgDumpOf(snap *backup.Snapshot, to string) string {
	for _, f := range snap.Files {
		if f.Path == "state.pgdump" {
			return filepath.Join(to, "state.pgdump")
		}
	}
	return ""
}

func newBackupPullCmd(g *Globals) *cobra.Command {
	var mf mirrorFlags
	var to string
	cmd := &cobra.Command{
		Use:   "pull --from s3://bucket/prefix --to DIR",
		Short: "Download a repository's mirror into a new folder, to restore from it",
		Long: `Download the copy of a backup repository that a server's --backup-mirror keeps in
S3-compatible storage into --to, which must not exist or be empty. The folder is then a
repository: 'phoenix backup restore latest --repo DIR' restores from it with its key.
Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
		Example: `  phoenix backup pull --from s3://offsite/phoenix --to /srv/phoenix-repo
  phoenix backup restore latest --repo /srv/phoenix-repo --key-file backup.key --to /var/lib/phoenix`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mf.url == "" || to == "" {
				return usererr.New(usererr.Usage, "pull needs --from and --to").WithHint("phoenix backup pull --from s3://bucket/prefix --to DIR")
			}
			m, err := mf.open(g.flagOrEnv, "from", "endpoint")
			if err != nil {
				return err
			}
			rep, err := m.Pull(cmd.Context(), to)
			if errors.Is(err, backup.ErrTargetNotEmpty) {
				return usererr.Wrap(usererr.Conflict, err, err.Error()).WithHint("pull into a new or empty folder")
			} else if errors.Is(err, backup.ErrMountPoint) {
				return mountPointError(err, "pull")
			} else if err != nil {
				return err
			}
			return g.emit(rep, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "pulled %d files (%s) from %s into %s\n", rep.Downloaded, humanBytes(rep.Bytes), m, to)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&mf.url, "from", "", "the mirror: s3://bucket/prefix")
	f.StringVar(&mf.endpoint, "endpoint", "", "S3 API URL of S3-compatible storage (default: AWS)")
	f.StringVar(&mf.region, "region", "", "region (default $AWS_REGION, else us-east-1)")
	f.StringVar(&to, "to", "", "new folder for the repository (must not exist or be empty)")
	return cmd
}
