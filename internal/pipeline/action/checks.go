package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/scan/audit"
	"github.com/phoenixvc/phoenix/internal/scan/license"
	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/policy"
	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/sbom"
	"github.com/phoenixvc/phoenix/internal/scan/secret"
)

// GateSummary is what a security gate step records as its output
// "summary" (JSON), beside the table in its log: the findings by
// severity (none for licences: a licence finding has a verdict, deny or
// review, which its severity only ranks), what it scanned, licences by
// verdict, the input it could not
// check, the exceptions it applied ("finding: exception (reason; expires
// DATE)") and whether it passed. The compliance report reads it back.
type GateSummary struct {
	Kind       string         `json:"kind"`
	Counts     map[string]int `json:"counts"`
	Scanned    int            `json:"scanned"`
	Verdicts   map[string]int `json:"verdicts,omitempty"`
	Problems   int            `json:"problems,omitempty"`
	Exceptions []string       `json:"exceptions,omitempty"`
	Pass       bool           `json:"pass"`
}

// SummarizeGate is the GateSummary of a gate that decided dec on r.
func SummarizeGate(r *report.Report, dec report.Decision) GateSummary {
	s := GateSummary{Kind: string(r.Kind), Counts: r.Counts(), Scanned: r.Scanned, Problems: len(r.Problems),
		Exceptions: dec.Applied, Pass: dec.Pass}
	if r.Kind == report.License {
		s.Counts, s.Verdicts = map[string]int{}, r.Verdicts()
	}
	return s
}

// named is the action of check name. The default release plan leaves out
// a check phoenix.yaml disables, so a step that uses check/NAME all the
// same asks for it by name: like 'phoenix check NAME', it runs, and its
// log says so.
func named(name string, run Func) Func {
	return func(ctx context.Context, sc *Context) error {
		if c, ok := policy.Lookup(sc.Config, name); ok && !c.Enabled {
			sc.Logf("note: %s: running it because this step uses check/%s (the default release plan and 'phoenix check' skip it)",
				c.Disabled, name)
		}
		return run(ctx, sc)
	}
}

// gate writes r and the decision to the log, records the summary as the
// step's output and fails on a failed gate.
func (d *Deps) gate(sc *Context, r *report.Report) error {
	dec := report.Gate(policy.Gate(sc.Config, r.Kind), r, d.Now())
	if err := report.WriteTable(sc.Log, r); err != nil {
		return err
	}
	if b, err := json.Marshal(SummarizeGate(r, dec)); err == nil {
		sc.SetOutput("summary", string(b))
	}
	for _, a := range dec.Applied {
		sc.Logf("excepted: %s", a)
	}
	if dec.Pass {
		sc.Logf("gate: pass")
		return nil
	}
	for _, reason := range dec.Reasons {
		sc.Logf("  - %s", reason)
	}
	return fmt.Errorf("%s gate failed: %d reason(s)", r.Kind, len(dec.Reasons))
}

// checkAudit matches the lockfiles against the OSV database. Without a
// database it fails closed, unless the project locks no packages at all.
func (d *Deps) checkAudit(ctx context.Context, sc *Context) error {
	db, err := osv.Open(d.AdvisoryDir)
	if err != nil {
		lfs, lerr := lockfile.Load(ctx, sc.WorkDir)
		n := 0
		for _, lf := range lfs {
			n += len(lf.Packages)
		}
		if lerr == nil && n == 0 {
			sc.Logf("no advisory database, but the project locks no packages: nothing to audit")
			return d.gate(sc, report.New(report.Vulnerability, sc.WorkDir, d.Now())) // recorded: 0 packages, clean
		}
		if errors.Is(err, osv.ErrNoDatabase) {
			// osv's own message names the command too: said once, with where
			// it must run, as the first release of a new server hits it.
			return fmt.Errorf("no advisory database at %s, and the audit fails closed without one: import one on "+
				"the server's machine with phoenix advisories import all.zip and the server's --data (docs/security-gates.md)", d.AdvisoryDir)
		}
		return fmt.Errorf("the advisory database at %s cannot be read (import it again: phoenix advisories import): %w", d.AdvisoryDir, err)
	}
	defer db.Close()
	r, err := audit.Run(ctx, sc.WorkDir, db, audit.Options{Now: d.Now(), MaxAge: 7 * 24 * time.Hour})
	if err != nil {
		return err
	}
	return d.gate(sc, r)
}

func (d *Deps) checkLicenses(ctx context.Context, sc *Context) error {
	r, err := license.Run(ctx, sc.WorkDir, policy.Licenses(sc.Config), license.Options{Now: d.Now()})
	if err != nil {
		return err
	}
	return d.gate(sc, r)
}

func (d *Deps) checkSecrets(ctx context.Context, sc *Context) error {
	opts := policy.Secrets(sc.Config)
	opts.Now, opts.Workers = d.Now(), 1
	if sc.Config != nil {
		opts.Exclude = append([]string{"node_modules/**"}, opts.Exclude...)
	}
	if sc.Secrets != nil {
		for _, v := range sc.Secrets() {
			opts.Known = append(opts.Known, []byte(v))
		}
	}
	r, err := secret.Run(ctx, sc.WorkDir, opts)
	if err != nil {
		return err
	}
	return d.gate(sc, r)
}

// checkSBOM writes the SBOM into the run's files (output path): CycloneDX,
// or SPDX 2.3 with checks.sbom.format spdx. Like the other gates it fails
// closed: lockfiles it cannot read (or none) fail the step, as an SBOM
// missing packages must not pass for a whole one.
func (d *Deps) checkSBOM(ctx context.Context, sc *Context) error {
	now, err := artifact.CreatedFromEnv(sc.Env) // SOURCE_DATE_EPOCH: a reproducible SBOM
	if err != nil {
		return err
	}
	if now.IsZero() {
		now = d.Now()
	}
	bom, problems, err := sbom.Generate(ctx, sc.WorkDir, sbom.Options{Version: sc.Run.Version, Now: now})
	if err != nil {
		return err
	}
	for _, n := range sbom.Notes(bom) { // the workspace root's lockfile an app's SBOM read, as the audit's log says
		sc.Logf("note: %s", n)
	}
	for _, w := range sbom.Warnings(bom) { // licence files not read, as the licence check warns
		sc.Logf("warning: %s", w)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			sc.Logf("problem: %s", p.String())
		}
		return fmt.Errorf("sbom gate failed: %d problem(s) reading the lockfiles; no SBOM written", len(problems))
	}
	format := ""
	if sc.Config != nil {
		format = sc.Config.Checks.SBOM.Format
	}
	name, write := sbom.WriterFor(format)
	path := filepath.Join(sc.Files, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := errors.Join(write(f, bom), f.Close()); err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	n := 0
	if bom.Components != nil {
		n = len(*bom.Components)
	}
	sc.SetOutput("path", path)
	sc.Logf("SBOM with %d components written to %s", n, path)
	return nil
}
