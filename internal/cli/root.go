// Package cli is the phoenix command line: one file per command, each an
// options struct and a run function that tests can call. Errors are mapped
// to exit codes in one place (usererr.ExitCode): 0 ok, 1 the operation
// failed, 2 usage or configuration error.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Globals are the flags every command takes. Each has a PHOENIX_* mirror in
// the environment (--data is PHOENIX_DATA, --output is PHOENIX_OUTPUT).
type Globals struct {
	Data   string
	Server string
	Token  string
	Output string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	started bool // a command got past flag and argument checks
}

// Main runs the command line with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &Globals{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !g.started && usererr.KindOf(err) == usererr.Internal {
		// cobra's own errors: unknown command, wrong number of arguments.
		err = usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("see 'phoenix --help'")
	}
	if err != nil {
		printError(stderr, err)
	}
	return usererr.ExitCode(err)
}

func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "error: %v\n", err)
	if hint := usererr.HintOf(err); hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
}

func newRoot(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "phoenix",
		Short: "Release, host and operate web apps from one binary",
		Long: `Phoenix runs a team's whole production release: a release tag goes through
security gates, build and tests, becomes a signed content-addressed artifact,
is deployed atomically, verified by health checks, and rolled back by itself
when verification fails. Then it keeps watching the site.

Start with 'phoenix demo' to see the whole flow on an example project.`,
		Example: `  phoenix demo                 # run the quickstart
  phoenix init                 # write phoenix.yaml for the project in this folder
  phoenix server --data /var/lib/phoenix`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.resolve(cmd) },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usererr.New(usererr.Usage, "%v", err).WithHint("see --help")
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.Data, "data", "", "data directory (default $PHOENIX_DATA, else the user's data dir)")
	pf.StringVar(&g.Server, "server", "", "URL of a phoenix server; without it commands run against --data in-process")
	pf.StringVar(&g.Token, "token", "", "API token for --server (prefer PHOENIX_TOKEN: flags land in shell history)")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: table or json")
	root.AddCommand(commands(g)...)
	return root
}

// envAlias is the flag annotation naming more environment variables that
// fill the flag when neither the command line nor its PHOENIX_* mirror
// gave it a value (e.g. a backup command's --repo takes the server's
// PHOENIX_BACKUP_REPO).
const envAlias = "phoenix-env-alias"

// resolve applies PHOENIX_* environment mirrors (and envAlias variables) to
// every flag the user did not set, then checks the globals.
func (g *Globals) resolve(cmd *cobra.Command) error {
	g.started = true
	var errs []error
	apply := func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		env := "PHOENIX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, usererr.New(usererr.Usage, "%s=%q: %v", env, v, err))
			}
		}
		for _, alias := range f.Annotations[envAlias] { // fills a flag still empty
			if v := os.Getenv(alias); v != "" && f.Value.String() == "" {
				if err := f.Value.Set(v); err != nil {
					errs = append(errs, usererr.New(usererr.Usage, "%s=%q: %v", alias, v, err))
				}
			}
		}
	}
	cmd.Flags().VisitAll(apply)
	cmd.InheritedFlags().VisitAll(apply)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if g.Output != "table" && g.Output != "json" && (g.Output != "markdown" || cmd.Annotations[markdownOK] == "") {
		return usererr.New(usererr.Usage, "--output %q: must be table or json (markdown too for phoenix report)", g.Output)
	}
	if g.Data == "" {
		g.Data = defaultDataDir()
	}
	return nil
}

// defaultDataDir is $XDG_DATA_HOME/phoenix, else ~/.local/share/phoenix.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "phoenix")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "phoenix")
	}
	return ".phoenix"
}
