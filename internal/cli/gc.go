package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
)

func newGCCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "Apply retention now (deployments, pipeline runs) and delete the blobs no release needs",
		Long: `Run one garbage collection now (the server also runs one shortly after
activations and every hour): drop deployments beyond each environment's
retention (the active one always stays), artifacts no deployment references
and expired uploads, then every blob that no remaining artifact or open
upload names. Blobs written or staged within the last hour are left for a
later collection, so a deploy being built next to the server is never
robbed of its files.

Then prune pipeline runs (the server also does after runs finish and every
hour): finished runs older than --run-retention (default 90d) beyond each
project's newest --run-keep (default 50) go with their steps, approvals,
stored logs and folder (logs, files); a run queued, running or waiting for
approval and a release a retained deployment uses always stay. The audit
log is never pruned. Needs the gc permission.`,
		Example: "  phoenix gc\n  phoenix gc -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st api.GCResponse
			if err := g.do(cmd.Context(), "POST", client.Path("gc"), nil, &st); err != nil {
				return err
			}
			return g.emit(st, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed %d deployment(s), %d artifact(s), %d upload(s) and %d blob(s); pruned %d run(s) and %d run folder(s)\n",
					st.Deployments, st.Artifacts, st.Uploads, st.Blobs, st.Runs, st.Folders)
				return err
			})
		},
	}
}
