package cli

import "github.com/spf13/cobra"

func newDemoCmd(g *Globals) *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "Run the quickstart (being built)", Hidden: true}
}
