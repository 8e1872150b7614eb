package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/version"
)

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of this binary",
		Example: "  phoenix version\n  phoenix version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			return g.emit(info, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, info.String())
				return err
			})
		},
	}
}
