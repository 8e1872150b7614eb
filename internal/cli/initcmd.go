package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/project"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type initOptions struct {
	app   string
	force bool
	out   string
}

func newInitCmd(g *Globals) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented phoenix.yaml for the project in this folder",
		Long: `Inspect the web project in DIR (default: the current folder) and write a
commented phoenix.yaml: the package manager from the lockfile (npm, pnpm, yarn;
the packageManager field wins), the build script and output folder, the Node.js
version, test scripts, an existing staticwebapp.config.json, production and
staging environments, and the seed's monitoring defaults.

A folder of static files (index.html and no package.json; or index.html in
public/, site/, www/, _site/, dist/ or build/) is deployed as it is: nothing is
installed or built, and the audit, licence and SBOM gates, which read a
lockfile, are off.

In a pnpm, npm or yarn workspace, run it in the root and pass --app with the app
to release; without it the candidates are listed, unless the root's package.json
has a build script (turbo run build): the root is then released as a whole.
Run in an app's own folder (a phoenix.yaml per app), it reads the workspace
root's lockfile and packageManager.`,
		Example: `  phoenix init
  phoenix init --app apps/web
  phoenix init ../shop --force`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(cmd.Context(), g, o, dir)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.app, "app", "", "app directory inside a monorepo, e.g. apps/web")
	f.BoolVar(&o.force, "force", false, "overwrite an existing phoenix.yaml")
	f.StringVar(&o.out, "out", "", "where to write (default DIR/phoenix.yaml; - for standard output)")
	return cmd
}

func runInit(_ context.Context, g *Globals, o *initOptions, dir string) error {
	if err := checkFolder(dir, "give the folder of your web project"); err != nil {
		return err
	}
	d, err := project.Detect(dir, o.app)
	var we *project.WorkspaceError
	if errors.As(err, &we) {
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("pick the app to release with --app DIR")
	}
	if errors.Is(err, project.ErrNoProject) {
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("run phoenix init in the folder of your web project: one with package.json, or the folder of a static site with its index.html")
	}
	if err != nil {
		return err
	}
	body := project.Render(d)
	if _, err := config.Parse(body, "phoenix.yaml"); err != nil {
		return fmt.Errorf("the generated phoenix.yaml does not validate (a bug; please report it): %w", err)
	}
	if o.out == "-" {
		_, err := g.Stdout.Write(body)
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join(dir, "phoenix.yaml")
	}
	if _, err := os.Stat(out); err == nil && !o.force {
		return usererr.New(usererr.Conflict, "%s exists", out).WithHint("pass --force to overwrite it")
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return err
	}
	return g.emit(d, func(w io.Writer) error { return printDetection(w, d, dir, out) })
}

// printDetection prints what init found, written to out, and the commands
// to run next for the project in dir.
func printDetection(w io.Writer, d *project.Detection, dir, out string) error {
	fmt.Fprintf(w, "wrote %s for project %q\n", out, d.Name)
	tb := newTable(w, "detected", "value")
	for _, r := range detectionRows(d) {
		tb.row(r[0], r[1])
	}
	if err := tb.flush(); err != nil {
		return err
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, nextSteps(dir))
	if d.Framework != "static" {
		fmt.Fprintln(w, "      the release's audit needs an advisory database when the lockfile locks packages: phoenix advisories import FILE.zip (docs/security-gates.md)")
	}
	return nil
}

// detectionRows are the table rows of printDetection: a folder of static
// files has no package manager or build to show.
func detectionRows(d *project.Detection) [][2]string {
	if d.Framework == "static" {
		return [][2]string{
			{"project", "static files: deployed as they are, nothing to install or build"},
			{"output", fmt.Sprintf("%s (%s)", d.Output, d.OutputSource)},
			{"staticwebapp.config.json", dash(d.SWAConfig)},
		}
	}
	rows := [][2]string{
		{"package manager", fmt.Sprintf("%s (%s)", d.PackageManager, d.PackageManagerSource)},
		{"build", dash(d.BuildCommand)},
		{"output", fmt.Sprintf("%s (%s)", d.Output, d.OutputSource)},
		{"node", dash(d.Node)},
		{"staticwebapp.config.json", dash(d.SWAConfig)},
	}
	if d.App != "" {
		rows = append([][2]string{{"app", d.App}}, rows...)
	}
	for _, t := range d.Tests {
		rows = append(rows, [2]string{t.Kind + " tests", t.Command})
	}
	return rows
}

// nextSteps is the line naming what to run after init in dir: check the
// file, then release to staging (the release builds, checks and deploys).
func nextSteps(dir string) string {
	if filepath.Clean(dir) == "." {
		return "next: phoenix validate, then phoenix release v0.1.0 --env staging"
	}
	return fmt.Sprintf("next: phoenix validate %s, then phoenix release v0.1.0 --dir %s --env staging", dir, dir)
}
