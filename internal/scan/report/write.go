package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes a human-readable table, worst findings first (none,
// not even its header, without findings), then problems and warnings,
// then a one-line summary. Notes come first.
func WriteTable(w io.Writer, r *Report) error {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch {
	case len(r.Findings) == 0: // the summary says "no findings"
	case r.Kind == Vulnerability:
		fmt.Fprintln(tw, "SEVERITY\tPACKAGE\tVERSION\tFIXED IN\tADVISORY\tSCOPE\tPATH")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sev(f), f.Package, f.Version, dash(f.FixedIn),
				f.RuleID+except(f), scope(f), clip(strings.Join(f.DepPath, " > "), 80))
		}
	case r.Kind == License:
		fmt.Fprintln(tw, "VERDICT\tPACKAGE\tVERSION\tLICENSE\tSCOPE\tPATH")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Verdict+except(f), f.Package, f.Version, dash(f.License),
				scope(f), clip(strings.Join(f.DepPath, " > "), 80))
		}
	default:
		fmt.Fprintln(tw, "SEVERITY\tRULE\tLOCATION\tSECRET\tFINGERPRINT")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\t%s\n", sev(f), f.RuleID+except(f), f.File, f.Line, f.Redacted, f.Fingerprint)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p.String())
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// Summary is one line: counts per severity, for licences per verdict
// ("license: 1 deny, 2 review in 80 packages": a licence finding has a
// verdict, its severity only ranks it), and what was scanned.
func (r *Report) Summary() string {
	c, order := r.Counts(), []string{"critical", "high", "moderate", "low", "unknown"}
	if r.Kind == License {
		c, order = r.Verdicts(), []string{"deny", "review", "allow"}
	}
	var parts []string
	for _, s := range order {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no findings")
	}
	unit := "packages"
	if r.Kind == Secret {
		unit = "files"
	}
	s := fmt.Sprintf("%s: %s in %d %s", r.Kind, strings.Join(parts, ", "), r.Scanned, unit)
	if n := len(r.Problems); n > 0 {
		s += fmt.Sprintf("; %d problems (input not checked)", n)
	}
	return s
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	if p.Entry != "" {
		return fmt.Sprintf("%s: %q: %s", loc, p.Entry, p.Msg)
	}
	if loc == "" {
		return p.Msg
	}
	return loc + ": " + p.Msg
}

func sev(f Finding) string {
	if f.Score > 0 {
		return fmt.Sprintf("%s %.1f", f.Severity, f.Score)
	}
	return f.Severity
}

func scope(f Finding) string {
	if f.Dev {
		return "dev"
	}
	return "prod"
}

func except(f Finding) string {
	if f.Exception != nil {
		return " (excepted)"
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
