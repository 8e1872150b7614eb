package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/scan/audit"
	"github.com/phoenixvc/phoenix/internal/scan/license"
	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/policy"
	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/secret"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type checkOptions struct {
	config string
	sarif  string
	noGate bool
	db     string
	maxAge time.Duration
	out    string
	all    bool // licenses: list allowed packages too
}

func newCheckCmd(g *Globals) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [DIR]",
		Short: "Security gates: dependency audit, licences, secrets, SBOM",
		Long: `Run the release gates on a project folder, offline. Each prints a table (or
JSON with -o json, or SARIF 2.1.0 with --sarif FILE for code-scanning tools)
and fails (exit 1) when the policy in phoenix.yaml's checks section says the
release must not pass. Exceptions in phoenix.yaml carry a reason and an expiry.

'phoenix check [DIR]' runs every check the release pipeline runs: those whose
checks.NAME.enabled is false are skipped and listed as skipped. Naming one
('phoenix check audit') runs it even when phoenix.yaml disables it, and says so.

The policy is DIR/phoenix.yaml, or the file given with -c. Without either the
documented defaults apply (the output says so), unless DIR is the build.app of
its workspace root's phoenix.yaml; a phoenix.yaml that does not load, or a -c
file that does not exist, is an error (exit 2). When DIR/phoenix.yaml sets
build.app the checks run in that app, as a release's do.

An app of an npm, pnpm or yarn workspace has no lockfile of its own: its
workspace root's is read for the app's packages, and a note says so.`,
		Example: "  phoenix check\n  phoenix check apps/web -o json\n  phoenix check audit --sarif audit.sarif",
		Args:    checkAllArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] == "help" {
				return cmd.Help()
			}
			in, err := o.input(g, cmd, args)
			if err != nil {
				return err
			}
			return o.runAll(cmd.Context(), g, in)
		},
	}
	cmd.PersistentFlags().StringVarP(&o.config, "config", "c", "", "project file with the checks policy (default DIR/phoenix.yaml; none there: the default policy)")
	auditFlags(cmd, o)
	cmd.Flags().BoolVar(&o.noGate, "no-gate", false, "report only; never fail on findings")
	cmd.AddCommand(newCheckAuditCmd(g, o), newCheckLicensesCmd(g, o), newCheckSecretsCmd(g, o), newCheckSBOMCmd(g, o))
	return cmd
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// gateFlags are the flags of the gates that produce a report (not sbom).
func gateFlags(cmd *cobra.Command, o *checkOptions) *cobra.Command {
	cmd.Flags().StringVar(&o.sarif, "sarif", "", "also write the findings as SARIF 2.1.0 to this file")
	cmd.Flags().BoolVar(&o.noGate, "no-gate", false, "report only; never fail on findings")
	return cmd
}

// checkInput is what a check runs on: DIR and the policy for it.
type checkInput struct {
	dir string
	cfg *config.Config // config.Default() when there is no phoenix.yaml
	// notes are for the output: that the defaults apply (no file was
	// read), or that a named check runs although phoenix.yaml disables it
	notes []string
}

// input checks that DIR is a folder and loads the policy: the -c file
// when given, else DIR/phoenix.yaml, else the documented defaults. A file
// that does not load fails the command (exit 2) rather than letting a
// gate pass under the defaults.
// checkOutputs checks, before any check runs, that the files --sarif and
// --out name can be written.
func (o *checkOptions) checkOutputs() error {
	if o.sarif != "" {
		if err := outArg("--sarif", o.sarif); err != nil {
			return err
		}
	}
	if o.out != "" && o.out != "-" {
		return outArg("--out", o.out)
	}
	return nil
}

func (o *checkOptions) input(g *Globals, cmd *cobra.Command, args []string) (*checkInput, error) {
	dir := dirArg(args)
	if err := checkFolder(dir, "give the project folder: "+cmd.CommandPath()+" [DIR]"); err != nil {
		return nil, err
	}
	if err := o.checkOutputs(); err != nil {
		return nil, err
	}
	in := &checkInput{dir: dir}
	path, above := o.config, ""
	if path == "" {
		path = filepath.Join(dir, "phoenix.yaml")
		if above = projectAbove(dir, path); above != "" {
			path = above
		}
	}
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && o.config == "":
		in.cfg, in.notes = config.Default(), []string{fmt.Sprintf("no %s: the default checks policy applies", path)}
		return in, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, usererr.New(usererr.Usage, "config file %s does not exist", path).
			WithHint("give an existing phoenix.yaml with -c, or leave -c out to use DIR/phoenix.yaml")
	case errors.As(err, new(config.Problems)):
		return nil, err // a configuration error (exit 2) with file:line:col
	case err != nil:
		return nil, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(g.Stderr, w.String())
	}
	in.cfg = cfg
	switch {
	case above != "":
		in.notes = append(in.notes, fmt.Sprintf("policy from %s, the workspace root's, whose build.app is this folder", above))
	case o.config == "" && cfg.Build.App != "":
		// the release runs its checks in build.app: so does phoenix check
		in.dir = filepath.Join(dir, filepath.FromSlash(cfg.Build.App))
		if err := checkFolder(in.dir, "build.app in "+path+" names the app the release checks"); err != nil {
			return nil, err
		}
		in.notes = append(in.notes, fmt.Sprintf("checking %s, build.app in %s, as a release does (phoenix check %s -c %s checks the whole folder)",
			in.dir, path, dir, path))
	}
	if c, ok := policy.Lookup(cfg, cmd.Name()); ok && !c.Enabled {
		in.notes = append(in.notes, explicitNote(c))
	}
	return in, nil
}

// projectAbove is the phoenix.yaml of the workspace root above dir whose
// build.app is dir, when dir has no phoenix.yaml (own, the path it would
// have) of its own: phoenix check apps/web applies the policy its release
// does. It is "" when there is none.
func projectAbove(dir, own string) string {
	if _, err := os.Stat(own); err == nil {
		return ""
	}
	root, rel, ok := lockfile.WorkspaceRoot(dir)
	if !ok {
		return ""
	}
	path := filepath.Join(root, "phoenix.yaml")
	cfg, err := config.Load(path)
	if err != nil || cfg.Build.App == "" || filepath.ToSlash(filepath.Clean(cfg.Build.App)) != rel {
		return ""
	}
	if abs, err := filepath.Abs(dir); err == nil {
		if r, err := filepath.Rel(abs, path); err == nil {
			return r
		}
	}
	return path
}

// explicitNote says that check c runs although phoenix.yaml disables it,
// because the command line names it: an explicit request wins.
func explicitNote(c policy.Check) string {
	return fmt.Sprintf("%s: running it because 'phoenix check %s' names it ('phoenix check' and the release pipeline skip it)",
		c.Disabled, c.Name)
}

func newCheckAuditCmd(g *Globals, o *checkOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit [DIR]",
		Short: "Match every locked dependency against the local OSV advisory database",
		Long: `Read package-lock.json (v1-v3), npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock
(v1 and berry) and go.mod/go.sum under DIR, and match every resolved package
against the advisories imported with 'phoenix advisories import'. Each finding
shows the dependency path, prod or dev, and the first fixed version. Without a
database it fails closed (exit 2), unless the lockfiles lock no package at all.`,
		Example: "  phoenix advisories import npm-all.zip\n  phoenix check audit\n  phoenix check audit apps/web --sarif audit.sarif",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := o.input(g, cmd, args)
			if err != nil {
				return err
			}
			return o.runGate(cmd.Context(), g, in, "audit")
		},
	}
	auditFlags(cmd, o)
	return gateFlags(cmd, o)
}

// auditFlags are the flags of the audit, which phoenix check [DIR] runs too.
func auditFlags(cmd *cobra.Command, o *checkOptions) {
	cmd.Flags().StringVar(&o.db, "db", "", "advisory database folder (default <data>/advisories)")
	durationVar(cmd.Flags(), &o.maxAge, "max-age", 7*24*time.Hour, "warn when the database is older than this")
}

func (o *checkOptions) advisoryDir(g *Globals) string {
	if o.db != "" {
		return o.db
	}
	return filepath.Join(g.Data, "advisories")
}

// runGate runs the check named name (audit, licenses or secrets) on in
// and finishes it: the report, the gate's decision, the exit status.
func (o *checkOptions) runGate(ctx context.Context, g *Globals, in *checkInput, name string) error {
	r, err := o.scan(ctx, g, in, name)
	if err != nil {
		return err
	}
	return o.finish(g, in, r)
}

// scan runs the scanner of check name on in.
func (o *checkOptions) scan(ctx context.Context, g *Globals, in *checkInput, name string) (*report.Report, error) {
	switch name {
	case "audit":
		return o.audit(ctx, g, in)
	case "licenses":
		return license.Run(ctx, in.dir, policy.Licenses(in.cfg), license.Options{All: o.all})
	case "secrets":
		return secret.Run(ctx, in.dir, policy.Secrets(in.cfg))
	}
	return nil, fmt.Errorf("check %s has no report", name)
}

func (o *checkOptions) audit(ctx context.Context, g *Globals, in *checkInput) (*report.Report, error) {
	db, err := osv.Open(o.advisoryDir(g))
	if err != nil {
		if r := nothingToAudit(ctx, in.dir); r != nil {
			return r, nil
		}
		return nil, usererr.Wrap(usererr.Usage, err, err.Error()).
			WithHint("import advisories first: phoenix advisories import FILE.zip|DIR")
	}
	defer db.Close()
	return audit.Run(ctx, in.dir, db, audit.Options{MaxAge: o.maxAge})
}

// nothingToAudit is the audit's report, with no finding, for a project
// whose lockfiles lock no package, when there is no advisory database: it
// has nothing to match, and the release pipeline's audit step passes it
// too. It is nil when a package is locked or the lockfiles do not load
// (the audit then fails closed).
func nothingToAudit(ctx context.Context, dir string) *report.Report {
	locks, err := lockfile.Load(ctx, dir)
	if err != nil {
		return nil
	}
	for _, l := range locks {
		if len(l.Packages) > 0 {
			return nil
		}
	}
	r := report.New(report.Vulnerability, dir, time.Now())
	r.Warnings = append(r.Warnings, "no advisory database, but the project locks no packages: nothing to audit")
	return r
}

func newCheckLicensesCmd(g *Globals, o *checkOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "licenses [DIR]",
		Short: "Check every dependency's licence against the policy",
		Long: `Find the licence of every installed package (lockfile, node_modules/*/package.json,
Go module LICENSE texts), evaluate SPDX expressions (AND, OR, WITH) against
checks.licenses in phoenix.yaml. Strong copyleft licences such as GPL-3.0 and
source-available ones such as BUSL-1.1 that the policy does not mention need
review; unknown licences are flagged.`,
		Example: "  phoenix check licenses\n  phoenix check licenses --all -o json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := o.input(g, cmd, args)
			if err != nil {
				return err
			}
			return o.runGate(cmd.Context(), g, in, "licenses")
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "also list packages whose licence is allowed")
	return gateFlags(cmd, o)
}

func newCheckSecretsCmd(g *Globals, o *checkOptions) *cobra.Command {
	return gateFlags(&cobra.Command{
		Use:   "secrets [DIR]",
		Short: "Scan source and build output for leaked credentials",
		Long: `Scan DIR for credentials: Azure storage keys and connection strings, Teams and
Slack webhook URLs, cloud and Git provider tokens, private keys and generic
high-entropy tokens. Findings show only a redacted prefix, never the secret.
.phoenixignore (gitignore syntax) and checks.secrets.allowlist skip known
false positives.`,
		Example: "  phoenix check secrets\n  phoenix check secrets dist --sarif secrets.sarif",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := o.input(g, cmd, args)
			if err != nil {
				return err
			}
			return o.runGate(cmd.Context(), g, in, "secrets")
		},
	}, o)
}

// finish gates r, writes it in the chosen formats, and fails on a failed gate.
func (o *checkOptions) finish(g *Globals, in *checkInput, r *report.Report) error {
	r.Warnings = append(r.Warnings, in.notes...)
	d := report.Gate(policy.Gate(in.cfg, r.Kind), r, time.Now())
	if o.sarif != "" {
		if err := writeSARIF(o.sarif, r); err != nil {
			return err
		}
	}
	out := struct {
		*report.Report
		Gate report.Decision `json:"gate"`
	}{r, d}
	if err := g.emit(out, func(w io.Writer) error { return writeGate(w, r, d) }); err != nil {
		return err
	}
	if !d.Pass && !o.noGate {
		return usererr.New(usererr.Failed, "%s gate failed: %d reason(s)", r.Kind, len(d.Reasons))
	}
	return nil
}

func writeSARIF(path string, r *report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = report.WriteSARIF(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeGate(w io.Writer, r *report.Report, d report.Decision) error {
	if err := report.WriteTable(w, r); err != nil {
		return err
	}
	writeDecision(w, d)
	return nil
}

// writeDecision writes the exceptions a gate used and its verdict.
func writeDecision(w io.Writer, d report.Decision) {
	for _, a := range d.Applied {
		fmt.Fprintln(w, "excepted:", a)
	}
	for _, e := range d.Expired {
		fmt.Fprintln(w, "expired exception:", e)
	}
	if d.Pass {
		fmt.Fprintln(w, "gate: pass")
		return
	}
	fmt.Fprintln(w, "gate: FAIL")
	for _, reason := range d.Reasons {
		fmt.Fprintln(w, "  -", reason)
	}
}

// localOnly refuses --server (or PHOENIX_SERVER) for a command that writes
// into a data dir on this machine and has no API: without it the command
// would write into the local default data dir and report success while
// the server named never sees the change.
func localOnly(g *Globals, name string) error {
	if g.Server == "" {
		return nil
	}
	return usererr.New(usererr.Usage, "phoenix %s writes into a data dir on this machine (--data), not through --server %s", name, g.Server).
		WithHint("run it on the server's machine with --data set to the server's data dir, and --server and PHOENIX_SERVER unset; with replicas, on every replica that may lead (docs/postgres.md)")
}

func newAdvisoriesCmd(g *Globals) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use: "advisories",
		Example: `  phoenix advisories import npm-all.zip
  phoenix check audit`,
		Short: "Manage the local OSV advisory database the audit uses",
	}
	imp := &cobra.Command{
		Use:   "import PATH",
		Short: "Import an OSV zip (as osv.dev publishes per ecosystem) or a folder of OSV JSON files",
		Example: `  phoenix advisories import npm-all.zip
  phoenix advisories import ./osv-advisories/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := localOnly(g, "advisories import"); err != nil {
				return err
			}
			if err := pathArg("advisories file or folder", args[0]); err != nil {
				return err
			}
			meta, err := osv.Import(cmd.Context(), args[0], o.advisoryDir(g), time.Now())
			if err != nil {
				return err
			}
			return g.emit(meta, func(w io.Writer) error {
				fmt.Fprintf(w, "imported %d advisories (%d withdrawn) for %d packages from %s\n", meta.Advisories, meta.Withdrawn, meta.Packages, meta.Source)
				for _, p := range meta.Problems {
					fmt.Fprintln(w, "problem:", p)
				}
				return nil
			})
		},
	}
	imp.Flags().StringVar(&o.db, "db", "", "advisory database folder (default <data>/advisories)")
	cmd.AddCommand(imp)
	return cmd
}
