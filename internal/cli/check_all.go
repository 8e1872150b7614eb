package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/scan/policy"
	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/sbom"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// What a check of phoenix check [DIR] came to.
const (
	checkPass    = "pass"
	checkFail    = "fail"
	checkSkipped = "skipped" // checks.NAME.enabled is false
	checkError   = "error"   // it could not run: the command fails closed
)

// checkOutcome is one check of phoenix check [DIR].
type checkOutcome struct {
	Check  string `json:"check"`
	Status string `json:"status"` // pass, fail, skipped or error
	// Detail is the report's summary; for a skipped check the setting
	// that disabled it, for an error what went wrong.
	Detail string           `json:"detail"`
	Report *report.Report   `json:"report,omitempty"`
	Gate   *report.Decision `json:"gate,omitempty"`
}

// checkAll is the output of phoenix check [DIR]: every check, in the
// release pipeline's order, skipped ones included.
type checkAll struct {
	Dir    string         `json:"dir"`
	Pass   bool           `json:"pass"` // no check failed nor errored
	Notes  []string       `json:"notes,omitempty"`
	Checks []checkOutcome `json:"checks"`
}

// checkAllArgs takes at most one DIR. A bare word that is no folder is
// taken for a mistyped check ('phoenix check audti'): the group's
// unknown-command error then suggests the closest.
func checkAllArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.MaximumNArgs(1)(cmd, args); err != nil || len(args) == 0 || args[0] == "help" {
		return err
	}
	if _, err := os.Stat(args[0]); err == nil || strings.ContainsAny(args[0], `./\`) {
		return nil // a folder, or a path: input says what is wrong with it
	}
	return fmt.Errorf("unknown command %q for %q, nor a folder", args[0], cmd.CommandPath())
}

// runAll runs every check the policy enables on in, lists the disabled
// ones as skipped, and fails when one fails or cannot run.
func (o *checkOptions) runAll(ctx context.Context, g *Globals, in *checkInput) error {
	res := checkAll{Dir: in.dir, Pass: true, Notes: in.notes}
	var errs []error
	for _, c := range policy.Checks(in.cfg) {
		out, err := o.runOne(ctx, g, in, c)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		}
		res.Pass = res.Pass && (out.Status == checkPass || out.Status == checkSkipped)
		res.Checks = append(res.Checks, out)
	}
	if err := g.emit(res, res.write); err != nil {
		return err
	}
	return res.verdict(errs, o.noGate)
}

// runOne runs check c on in, unless the policy disables it.
func (o *checkOptions) runOne(ctx context.Context, g *Globals, in *checkInput, c policy.Check) (checkOutcome, error) {
	out := checkOutcome{Check: c.Name}
	if !c.Enabled {
		out.Status, out.Detail = checkSkipped, fmt.Sprintf("%s; 'phoenix check %s' runs it anyway", c.Disabled, c.Name)
		return out, nil
	}
	if c.Name == "sbom" {
		return sbomOutcome(ctx, in)
	}
	r, err := o.scan(ctx, g, in, c.Name)
	if err != nil {
		out.Status, out.Detail = checkError, errorText(err)
		return out, err
	}
	d := report.Gate(policy.Gate(in.cfg, r.Kind), r, time.Now())
	out.Status, out.Detail, out.Report, out.Gate = checkFail, r.Summary(), r, &d
	if d.Pass {
		out.Status = checkPass
	}
	return out, nil
}

// sbomOutcome makes the SBOM the release would store, without writing it.
// Like the pipeline's step and 'phoenix check sbom' it fails on lockfiles
// it cannot read (or none): an SBOM could not be made, so the check is an
// error, which --no-gate does not pass.
func sbomOutcome(ctx context.Context, in *checkInput) (checkOutcome, error) {
	out := checkOutcome{Check: "sbom"}
	bom, problems, err := generateSBOM(ctx, in, sbom.Options{})
	if err != nil {
		out.Status, out.Detail = checkError, errorText(err)
		return out, err
	}
	d := report.Decision{Pass: len(problems) == 0}
	for _, p := range problems {
		d.Reasons = append(d.Reasons, "not checked (failing closed): "+p.String())
	}
	n := 0
	if bom.Components != nil {
		n = len(*bom.Components)
	}
	out.Status, out.Gate = checkPass, &d
	out.Detail = fmt.Sprintf("SBOM of %d package(s); 'phoenix check sbom --out FILE' writes it", n)
	notes := sbom.Notes(bom)
	for _, w := range sbom.Warnings(bom) {
		notes = append(notes, "warning: "+w)
	}
	if len(notes) > 0 {
		out.Detail = fmt.Sprintf("SBOM of %d package(s) (%s); 'phoenix check sbom --out FILE' writes it", n, strings.Join(notes, "; "))
	}
	if !d.Pass {
		err := usererr.New(usererr.Failed, "%d problem(s) reading the lockfiles; no SBOM", len(problems))
		out.Status, out.Detail = checkError, err.Error()
		return out, err
	}
	return out, nil
}

// errorText is err's message with its hint, if any.
func errorText(err error) string {
	if hint := usererr.HintOf(err); hint != "" {
		return err.Error() + " (hint: " + hint + ")"
	}
	return err.Error()
}

// write prints each check that ran (its table and gate), then one line
// per check, skipped ones included.
func (res checkAll) write(w io.Writer) error {
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, c := range res.Checks {
		if c.Report == nil && (c.Gate == nil || c.Gate.Pass) {
			continue // skipped, errored or a whole SBOM: the summary says it all
		}
		fmt.Fprintf(w, "== %s ==\n", c.Check)
		if c.Report != nil {
			if err := writeGate(w, c.Report, *c.Gate); err != nil {
				return err
			}
		} else {
			writeDecision(w, *c.Gate)
		}
		fmt.Fprintln(w)
	}
	t := newTable(w, "check", "result", "detail")
	for _, c := range res.Checks {
		t.row(c.Check, c.Status, c.Detail)
	}
	return t.flush()
}

// verdict fails the command when a check could not run (whatever
// --no-gate says: the gates fail closed) or, unless noGate, failed.
func (res checkAll) verdict(errs []error, noGate bool) error {
	if len(errs) > 0 {
		kind, msgs := usererr.Failed, make([]string, len(errs))
		for i, err := range errs {
			if usererr.ExitCode(err) == usererr.ExitUsage {
				kind = usererr.KindOf(err)
			}
			msgs[i] = err.Error()
		}
		err := usererr.New(kind, "%d check(s) could not run: %s", len(errs), strings.Join(msgs, "; "))
		if hint := usererr.HintOf(errs[0]); hint != "" {
			err = err.WithHint("%s", hint)
		}
		return err
	}
	if res.Pass || noGate {
		return nil
	}
	var failed []string
	for _, c := range res.Checks {
		if c.Status == checkFail {
			failed = append(failed, c.Check)
		}
	}
	return usererr.New(usererr.Failed, "%d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
}
