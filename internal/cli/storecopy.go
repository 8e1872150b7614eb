package cli

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newStoreCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "store",
		Example: `  phoenix store copy --data /var/lib/phoenix --to 'postgres://phoenix@db.internal:5432/phoenix'
  phoenix store verify`,
		Short: "Manage where the server keeps its state (SQLite or PostgreSQL) and check its blobs",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStoreCopyCmd(g), newStoreVerifyCmd(g))
	return cmd
}

func newStoreCopyCmd(g *Globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "copy --to postgres://…",
		Short: "Move a stopped server's state from state.db into an empty PostgreSQL database",
		Long: `Copy every table of the data dir's state.db (deployments, runs, the audit
log, the vault's ciphertexts, users, tokens, alerts, certificates...) into an
empty PostgreSQL database, keeping every id, in one transaction: a failure
leaves the database as it was.

The server must be stopped (the data dir's lock is taken for the copy) and
the database must hold no Phoenix data. The copy applies this Phoenix's
migrations there first; state.db must be at the same version (start and
stop the server of this version once if it is older). Before committing,
each table's row count and a checksum of its rows are compared on both
sides; after, the audit log is verified in the database with the server's
verifier key (keys/audit.pub). Then <data>/state.postgres names the
database, so the data dir starts only with --database-url. No row of
state.db is written: it keeps what it held, the way back (remove
state.postgres).

The password is best given in PGPASSWORD or ~/.pgpass, or the whole URL
in PHOENIX_DATABASE_URL (the default of --to). See docs/postgres.md.`,
		Example: `  phoenix store copy --data /var/lib/phoenix --to 'postgres://phoenix@db.internal:5432/phoenix'
  PHOENIX_DATABASE_URL='postgres://phoenix@db.internal/phoenix' phoenix store copy --data /var/lib/phoenix -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usererr.New(usererr.Usage, "no destination database").
					WithHint("pass --to postgres://USER@HOST:PORT/DB or set %s", DatabaseURLEnv)
			}
			return runStoreCopy(cmd, g, to)
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the empty PostgreSQL database to copy into, e.g. postgres://phoenix@db:5432/phoenix (default $"+DatabaseURLEnv+")")
	_ = f.SetAnnotation("to", envAlias, []string{DatabaseURLEnv})
	return cmd
}

func runStoreCopy(cmd *cobra.Command, g *Globals, to string) error {
	var pb *progressbar.ProgressBar
	progress := func(done, total int64) {
		if pb == nil && isTerminal(g.Stderr) {
			pb = progressbar.NewOptions64(total, progressbar.OptionSetWriter(g.Stderr), progressbar.OptionSetDescription("copying rows"),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100e6))
		}
		if pb != nil {
			pb.Set64(done)
		}
	}
	if err := app.CheckDatabaseURL(g.flagOrEnv("to"), to); err != nil {
		return err // named by what gave it: --to, PHOENIX_TO or PHOENIX_DATABASE_URL
	}
	rep, err := app.CopyToPostgres(cmd.Context(), g.Data, to, progress)
	if pb != nil {
		pb.Finish()
	}
	if err != nil {
		return err
	}
	return g.emit(rep, func(w io.Writer) error {
		t := newTable(w, "table", "rows")
		for _, tb := range rep.Tables {
			t.row(tb.Name, tb.Rows)
		}
		if err := t.flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "copied %d rows in %d tables to %s; counts and row checksums match; audit log intact (%d records, %d checkpoints)\n"+
			"%s now names the database: start with 'phoenix server --data %s --database-url …' (state.db is unchanged)\n",
			rep.Rows, len(rep.Tables), rep.Database, rep.Audit.Records, rep.Audit.Checkpoints, app.PostgresMarker, g.Data)
		return err
	})
}
