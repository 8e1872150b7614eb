package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

func newGCCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "Apply retention now and delete the blobs no release needs",
		Long: `Run one garbage collection now (the server also runs one shortly after
activations and every hour): drop deployments beyond each environment's
retention (the active one always stays), artifacts no deployment references
and expired uploads, then every blob that no remaining artifact or open
upload names. Blobs written or staged within the last hour are left for a
later collection, so a deploy being built next to the server is never
robbed of its files. Needs the gc permission.`,
		Example: "  phoenix gc\n  phoenix gc -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st deploy.GCStats
			if err := g.do(cmd.Context(), "POST", client.Path("gc"), nil, &st); err != nil {
				return err
			}
			return g.emit(st, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed %d deployment(s), %d artifact(s), %d upload(s) and %d blob(s)\n",
					st.Deployments, st.Artifacts, st.Uploads, st.Blobs)
				return err
			})
		},
	}
}
