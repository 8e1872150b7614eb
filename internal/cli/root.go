// Package cli is the phoenix command line: one file per command, each an
// options struct and a run function that tests can call. Errors are mapped
// to exit codes in one place (usererr.ExitCode): 0 ok, 1 the operation
// failed, 2 the command line, a configuration or a value is wrong (a usage
// error, or one the server refused as invalid).
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/config"
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

	started bool              // a command got past flag and argument checks
	fromEnv map[string]string // flags filled from the environment, not the command line: the variable that did
	// stdinLines reads Stdin line by line for every prompt of one command
	// (a new password, then the current one): one reader, as a second
	// would miss what the first buffered. Per command, not per process.
	stdinLines *bufio.Reader
}

// givenOnCommandLine reports whether the flag name was given on the
// command line; a flag filled from its PHOENIX_* variable is Changed too
// (so it counts for required flags) but was not given.
func (g *Globals) givenOnCommandLine(cmd *cobra.Command, name string) bool {
	return cmd.Flags().Changed(name) && g.fromEnv[name] == ""
}

// Main runs the command line with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The Go runtime does not copy the command line: os.Args, and so every
	// flag value parsed from it, is the memory /proc/<pid>/cmdline shows.
	// The server overwrites --database-url's password there (scrubArgs),
	// so it must keep a copy of its own or connect with "xxxx".
	args = slices.Clone(args)
	for i := range args {
		args[i] = strings.Clone(args[i])
	}
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
	var ps config.Problems
	if errors.As(err, &ps) && usererr.KindOf(err) == usererr.Internal {
		// a phoenix.yaml that does not load is a configuration error.
		err = usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("check it with phoenix validate")
	}
	if err != nil {
		printError(stderr, err)
	}
	return usererr.ExitCode(err)
}

// printError prints err and its hint, after the warnings of a phoenix.yaml
// that failed to load (which are not what failed, so not part of err's
// message).
func printError(w io.Writer, err error) {
	var ps config.Problems
	if errors.As(err, &ps) && len(ps.Errors()) > 0 {
		for _, p := range ps.Warnings() {
			p.Warning = false
			fmt.Fprintf(w, "warning: %s\n", p)
		}
	}
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
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&g.Data, "data", "", "data directory (default $PHOENIX_DATA, else the user's data dir)")
	pf.StringVar(&g.Server, "server", "", "URL of a phoenix server; without it commands run against --data in-process")
	pf.StringVar(&g.Token, "token", "", "API token to act with (prefer PHOENIX_TOKEN: flags land in shell history); without it a command on --data acts as its admin")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: table or json (markdown too for phoenix report)")
	root.AddCommand(commands(g)...)
	groupCommands(root)
	for _, c := range root.Commands() {
		strictGroups(c)
		usageArgs(c)
	}
	return root
}

// envAlias is the flag annotation naming more environment variables that
// fill the flag when neither the command line nor its PHOENIX_* mirror
// gave it a value (e.g. a backup command's --repo takes the server's
// PHOENIX_BACKUP_REPO).
const envAlias = "phoenix-env-alias"

// Cobra's annotations for flag groups (cobra does not export their names;
// TestEnvFillsRequiredFlags and TestRequiredFlagsAreUsageErrors fail
// should they change).
const (
	oneRequiredGroup       = "cobra_annotation_one_required"
	mutuallyExclusiveGroup = "cobra_annotation_mutually_exclusive"
)

// flagOrEnv names what gave the flag name its value, for errors: the
// variable that filled it (its PHOENIX_* mirror, or an envAlias), else
// --name. Every refusal of a value a command checks itself names it so.
func (g *Globals) flagOrEnv(name string) string {
	if env := g.fromEnv[name]; env != "" {
		return env
	}
	return "--" + name
}

// envName is the PHOENIX_* variable that mirrors a flag.
func envName(flag string) string {
	return "PHOENIX_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// resolve applies PHOENIX_* environment mirrors (and envAlias variables) to
// every flag the user did not set, and marks the flags a non-empty value
// filled as set: they count for required flags and flag groups as the flag
// on the command line would. A variable gives way to a flag given on the
// command line that excludes its flag (PHOENIX_ENV to --preview). Then it
// checks the globals and the required flags and groups, as usage errors.
func (g *Globals) resolve(cmd *cobra.Command) error {
	var errs []error
	given := map[string]bool{} // on the command line (Flags holds the inherited ones too)
	cmd.Flags().VisitAll(func(f *pflag.Flag) { given[f.Name] = f.Changed })
	excluded := func(f *pflag.Flag) bool {
		for _, group := range f.Annotations[mutuallyExclusiveGroup] {
			for _, other := range strings.Fields(group) {
				if given[other] {
					return true
				}
			}
		}
		return false
	}
	set := func(f *pflag.Flag, env, v string) {
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, usererr.New(usererr.Usage, "%s=%q: %s", env, v, plainParseError(err.Error())))
			return
		}
		if v == "" {
			return // it sets the value, but gives no flag a required one
		}
		f.Changed = true
		if g.fromEnv == nil {
			g.fromEnv = map[string]string{}
		}
		g.fromEnv[f.Name] = env
	}
	apply := func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || excluded(f) {
			return
		}
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			set(f, env, v)
		}
		for _, alias := range f.Annotations[envAlias] { // fills a flag still empty
			if v := os.Getenv(alias); v != "" && f.Value.String() == "" {
				set(f, alias, v)
			}
		}
	}
	cmd.Flags().VisitAll(apply)
	cmd.InheritedFlags().VisitAll(apply)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if g.Output != "table" && g.Output != "json" && (g.Output != "markdown" || cmd.Annotations[markdownOK] == "") {
		return usererr.New(usererr.Usage, "%s %q: must be table or json (markdown too for phoenix report)", g.flagOrEnv("output"), g.Output)
	}
	if err := checkServerURL(g.flagOrEnv("server"), g.Server); err != nil {
		return err
	}
	if g.Data == "" {
		g.Data = defaultDataDir()
	}
	if err := g.checkRequiredFlags(cmd); err != nil {
		return err
	}
	if err := g.checkDataDirExists(cmd); err != nil { // datadir.go
		return err
	}
	g.started = true
	return nil
}

// checkRequiredFlags runs cobra's checks of required flags and flag groups
// (which run again, and pass, after this) and makes their errors usage
// errors whose hint names the flags to give and their PHOENIX_* variables.
func (g *Globals) checkRequiredFlags(cmd *cobra.Command) error {
	fs := cmd.Flags()
	var missing, oneOf, byEnv []string
	fs.VisitAll(func(f *pflag.Flag) {
		if g.fromEnv[f.Name] != "" && len(f.Annotations[mutuallyExclusiveGroup]) > 0 {
			byEnv = append(byEnv, fmt.Sprintf("%s sets --%s", g.fromEnv[f.Name], f.Name))
		}
		if f.Changed {
			return
		}
		if r := f.Annotations[cobra.BashCompOneRequiredFlag]; len(r) > 0 && r[0] == "true" {
			missing = append(missing, f.Name)
		}
		for _, group := range f.Annotations[oneRequiredGroup] {
			if !slices.ContainsFunc(strings.Fields(group), fs.Changed) {
				oneOf = append(oneOf, f.Name)
			}
		}
	})
	give := func(names []string, conj string) string {
		var flags, envs []string
		for _, n := range names {
			flags, envs = append(flags, "--"+n), append(envs, envName(n))
		}
		return fmt.Sprintf("pass %s, or set %s; see '%s --help'",
			strings.Join(flags, conj), strings.Join(envs, conj), cmd.CommandPath())
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("%s", give(missing, " and "))
	}
	if err := cmd.ValidateFlagGroups(); err != nil {
		ue := usererr.Wrap(usererr.Usage, err, err.Error())
		switch {
		case len(oneOf) > 0:
			ue.Hint = give(oneOf, " or ")
		case len(byEnv) > 0:
			ue.Hint = fmt.Sprintf("%s; see '%s --help'", strings.Join(byEnv, ", "), cmd.CommandPath())
		default:
			ue.Hint = fmt.Sprintf("see '%s --help'", cmd.CommandPath())
		}
		return ue
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
