package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The backup commands that read a repository themselves: verify, restore.

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
