package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/scan/audit"
	"github.com/phoenixvc/phoenix/internal/scan/license"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/sbom"
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
}

func newCheckCmd(g *Globals) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Security gates: dependency audit, licences, secrets, SBOM",
		Long: `Run the release gates on a project folder, offline. Each prints a table (or
JSON with -o json, or SARIF 2.1.0 with --sarif FILE for code-scanning tools)
and fails (exit 1) when the policy in phoenix.yaml's checks section says the
release must not pass. Exceptions in phoenix.yaml carry a reason and an expiry.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.config, "config", "c", "phoenix.yaml", "project file with the checks policy (optional)")
	pf.StringVar(&o.sarif, "sarif", "", "also write the findings as SARIF 2.1.0 to this file")
	pf.BoolVar(&o.noGate, "no-gate", false, "report only; never fail on findings")
	cmd.AddCommand(newCheckAuditCmd(g, o), newCheckLicensesCmd(g, o), newCheckSecretsCmd(g, o), newCheckSBOMCmd(g, o))
	return cmd
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

func newCheckAuditCmd(g *Globals, o *checkOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit [DIR]",
		Short: "Match every locked dependency against the local OSV advisory database",
		Long: `Read package-lock.json (v1-v3), npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock
(v1 and berry) and go.mod/go.sum under DIR, and match every resolved package
against the advisories imported with 'phoenix advisories import'. Each finding
shows the dependency path, prod or dev, and the first fixed version.`,
		Example: "  phoenix advisories import npm-all.zip\n  phoenix check audit\n  phoenix check audit apps/web --sarif audit.sarif",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckAudit(cmd.Context(), g, o, dirArg(args))
		},
	}
	cmd.Flags().StringVar(&o.db, "db", "", "advisory database folder (default <data>/advisories)")
	cmd.Flags().DurationVar(&o.maxAge, "max-age", 7*24*time.Hour, "warn when the database is older than this")
	return cmd
}

func (o *checkOptions) advisoryDir(g *Globals) string {
	if o.db != "" {
		return o.db
	}
	return filepath.Join(g.Data, "advisories")
}

func runCheckAudit(ctx context.Context, g *Globals, o *checkOptions, dir string) error {
	db, err := osv.Open(o.advisoryDir(g))
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error()).
			WithHint("import advisories first: phoenix advisories import FILE.zip|DIR")
	}
	defer db.Close()
	r, err := audit.Run(ctx, dir, db, audit.Options{MaxAge: o.maxAge})
	if err != nil {
		return err
	}
	return o.finish(g, r)
}

func newCheckLicensesCmd(g *Globals, o *checkOptions) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "licenses [DIR]",
		Short: "Check every dependency's licence against the policy",
		Long: `Find the licence of every installed package (lockfile, node_modules/*/package.json,
Go module LICENSE texts), evaluate SPDX expressions (AND, OR, WITH) against
checks.licenses in phoenix.yaml. Strong copyleft licences such as GPL-3.0 that
the policy does not mention need review; unknown licences are flagged.`,
		Example: "  phoenix check licenses\n  phoenix check licenses --all -o json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := o.loadConfig()
			p := license.DefaultPolicy()
			if cfg != nil {
				lc := cfg.Checks.Licenses
				p.Allow, p.Review, p.Deny = lc.Allow, lc.Review, append(p.Deny, lc.Deny...)
				if lc.Unknown != "" {
					p.Unknown = lc.Unknown
				}
			}
			r, err := license.Run(cmd.Context(), dirArg(args), p, license.Options{All: all})
			if err != nil {
				return err
			}
			return o.finish(g, r)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "also list packages whose licence is allowed")
	return cmd
}

func newCheckSecretsCmd(g *Globals, o *checkOptions) *cobra.Command {
	return &cobra.Command{
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
			opts := secret.Options{}
			if cfg := o.loadConfig(); cfg != nil {
				opts.Exclude = cfg.Checks.Secrets.Exclude
				for _, a := range cfg.Checks.Secrets.Allowlist {
					opts.Allow = append(opts.Allow, secret.Allowed{Path: a.Path, Rule: a.Rule, Fingerprint: a.Fingerprint, Reason: a.Reason})
				}
			}
			r, err := secret.Run(cmd.Context(), dirArg(args), opts)
			if err != nil {
				return err
			}
			return o.finish(g, r)
		},
	}
}

func newCheckSBOMCmd(g *Globals, o *checkOptions) *cobra.Command {
	var name, ver string
	cmd := &cobra.Command{
		Use:     "sbom [DIR]",
		Short:   "Write a CycloneDX JSON SBOM of the project's dependencies",
		Example: "  phoenix check sbom --out sbom.cdx.json\n  phoenix check sbom apps/web --version v1.4.2",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			now, err := createdFromEnv() // SOURCE_DATE_EPOCH: a reproducible SBOM
			if err != nil {
				return err
			}
			bom, problems, err := sbom.Generate(cmd.Context(), dirArg(args), sbom.Options{Name: name, Version: ver, Now: now})
			if err != nil {
				return err
			}
			w := g.Stdout
			if o.out != "" && o.out != "-" {
				f, err := os.Create(o.out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if err := sbom.Write(w, bom); err != nil {
				return err
			}
			for _, p := range problems {
				fmt.Fprintf(g.Stderr, "warning: %s: %s\n", p.File, p.Msg)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "file to write (default standard output)")
	cmd.Flags().StringVar(&name, "name", "", "application name (default: package.json name)")
	cmd.Flags().StringVar(&ver, "version", "", "application version, e.g. v1.4.2")
	return cmd
}

// loadConfig reads the project file when there is one; a broken one is
// reported by 'phoenix validate', and the gates then use their defaults.
func (o *checkOptions) loadConfig() *config.Config {
	cfg, err := config.Load(o.config)
	if err != nil {
		return nil
	}
	return cfg
}

// gatePolicy turns phoenix.yaml's checks section into the gate's policy.
func (o *checkOptions) gatePolicy() report.Policy {
	p := report.Policy{}
	cfg := o.loadConfig()
	if cfg == nil {
		return p
	}
	p.MinSeverity, p.IncludeDev = cfg.Checks.Audit.Severity, cfg.Checks.Audit.Dev
	for _, e := range cfg.Checks.Exceptions {
		exp, _ := time.Parse(time.DateOnly, string(e.Expires))
		p.Exceptions = append(p.Exceptions, report.Exception{ID: e.ID, Package: e.Package, Versions: e.Versions,
			License: e.License, Reason: e.Reason, Expires: exp})
	}
	return p
}

// finish gates r, writes it in the chosen formats, and fails on a failed gate.
func (o *checkOptions) finish(g *Globals, r *report.Report) error {
	d := report.Gate(o.gatePolicy(), r, time.Now())
	if o.sarif != "" {
		f, err := os.Create(o.sarif)
		if err != nil {
			return err
		}
		err = report.WriteSARIF(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
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
		return usererr.New(usererr.Invalid, "%s gate failed: %d reason(s)", r.Kind, len(d.Reasons))
	}
	return nil
}

func writeGate(w io.Writer, r *report.Report, d report.Decision) error {
	if err := report.WriteTable(w, r); err != nil {
		return err
	}
	for _, a := range d.Applied {
		fmt.Fprintln(w, "excepted:", a)
	}
	for _, e := range d.Expired {
		fmt.Fprintln(w, "expired exception:", e)
	}
	if d.Pass {
		fmt.Fprintln(w, "gate: pass")
		return nil
	}
	fmt.Fprintln(w, "gate: FAIL")
	for _, reason := range d.Reasons {
		fmt.Fprintln(w, "  -", reason)
	}
	return nil
}

func newAdvisoriesCmd(g *Globals) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "advisories",
		Short: "Manage the local OSV advisory database the audit uses",
	}
	imp := &cobra.Command{
		Use:   "import PATH",
		Short: "Import an OSV zip (as osv.dev publishes per ecosystem) or a folder of OSV JSON files",
		Example: `  phoenix advisories import npm-all.zip
  phoenix advisories import ./osv-advisories/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
