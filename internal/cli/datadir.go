package cli

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// readsServer are the commands (a group: each of its subcommands) that
// only show or act on what a server already holds: runs, deployments,
// alerts, the audit log. Without --server, on a data dir that does not
// exist, each would start a server in-process there and so make a new,
// empty Phoenix (a mistyped --data, or the default data dir on a machine
// whose server lives elsewhere) and answer from it: "no runs". They are
// refused instead. Commands that may set a new server up (vault init,
// user add, secret set, deploy, release) are not listed.
var readsServer = []string{
	"phoenix alerts", "phoenix approve", "phoenix audit", "phoenix cancel", "phoenix certificates",
	"phoenix deployments", "phoenix gc", "phoenix logs", "phoenix projects", "phoenix report",
	"phoenix retry", "phoenix rollback", "phoenix runs", "phoenix status",
	"phoenix secret list", "phoenix secret get", "phoenix secret history",
	"phoenix token list", "phoenix user list", "phoenix vault status",
}

// readsOnly reports whether cmd is one of readsServer.
func readsOnly(cmd *cobra.Command) bool {
	path := cmd.CommandPath()
	for _, c := range readsServer {
		if path == c || strings.HasPrefix(path, c+" ") {
			return true
		}
	}
	return false
}

// checkDataDirExists refuses a readsServer command run without --server
// on a data dir that does not exist, before anything is made there.
func (g *Globals) checkDataDirExists(cmd *cobra.Command) error {
	if g.Server != "" || !readsOnly(cmd) {
		return nil
	}
	if _, err := os.Stat(g.Data); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	where := g.flagOrEnv("data")
	if !cmd.Flags().Changed("data") {
		where = "the default data dir; no --data or PHOENIX_DATA given"
	}
	return usererr.New(usererr.Usage, "no phoenix data dir at %s (%s): no server to ask", g.Data, where).
		WithHint("give the server's data dir (--data or PHOENIX_DATA), or its URL (--server, with PHOENIX_TOKEN); 'phoenix server --data DIR' sets up a new one")
}
