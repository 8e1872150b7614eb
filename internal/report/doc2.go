package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

func securityBlocks(s *Security) []Block {
	if s == nil {
		return nil
	}
	if s.Note != "" {
		return note("Security", s.Note)
	}
	b := Block{Title: "Security", Level: 1, Header: []string{"PROJECT", "RELEASE", "WHY", "RUN", "VULNERABILITIES",
		"LICENCES", "SECRETS", "SBOM", "EXCEPTIONS"}}
	out := []Block{b}
	for _, r := range s.Releases {
		run := "-"
		if r.Run != 0 {
			run = fmt.Sprintf("#%d %s", r.Run, r.Status)
		}
		sbom := yes(r.SBOM)
		if r.Run == 0 {
			sbom = "-"
		}
		out[0].Rows = append(out[0].Rows, []string{r.Project, dash(r.Version), strings.Join(r.Why, ", "), run,
			r.cell("audit", gate(r.Vulnerabilities)), r.cell("licenses", licences(r.Licenses)), r.cell("secrets", gate(r.Secrets)),
			r.cell("sbom", sbom), strconv.Itoa(len(r.Exceptions))})
		if r.Note != "" {
			out[0].Lines = append(out[0].Lines, fmt.Sprintf("%s %s: %s", r.Project, dash(r.Version), r.Note))
		}
		for _, d := range r.Disabled {
			out[0].Lines = append(out[0].Lines, fmt.Sprintf("%s %s: the %s gate was disabled at release: %s", r.Project, dash(r.Version), d.Check, setting(d)))
		}
		if len(r.Exceptions) > 0 {
			eb := Block{Title: fmt.Sprintf("Accepted exceptions of %s %s", r.Project, r.Version), Level: 2,
				Header: []string{"GATE", "EXPIRES", "DAYS LEFT", "FINDING AND EXCEPTION"}}
			for _, e := range r.Exceptions {
				left := "-"
				if e.DaysLeft != nil {
					left = strconv.Itoa(*e.DaysLeft)
				}
				exp := "-"
				if !e.Expires.IsZero() {
					exp = e.Expires.Format("2006-01-02")
				}
				eb.Rows = append(eb.Rows, []string{e.Gate, exp, left, e.Text})
			}
			out = append(out, eb)
		}
	}
	return out
}

// cell is the table cell of gate check: "disabled (checks.NAME.enabled:
// false)" when the release's plan recorded phoenix.yaml turning it off,
// else result.
func (r *ReleaseSecurity) cell(check, result string) string {
	for _, d := range r.Disabled {
		if d.Check == check {
			return "disabled (" + d.Setting + ")"
		}
	}
	return result
}

// setting is the setting that disabled a gate and where it was when the
// release was made: "checks.secrets.enabled: false (phoenix.yaml:9:14)".
func setting(d spec.DisabledCheck) string {
	if d.At == "" {
		return d.Setting
	}
	return fmt.Sprintf("%s (%s)", d.Setting, d.At)
}

// gate summarizes a gate: its findings by severity (or "clean"), the step
// status when it did not succeed.
func gate(g *pipeline.GateResult) string {
	if g == nil {
		return "not run"
	}
	if !g.Recorded {
		return g.Status + ", no result recorded"
	}
	var parts []string
	for _, s := range []string{"critical", "high", "moderate", "low", "unknown"} {
		if g.Counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", g.Counts[s], s))
		}
	}
	s := "clean"
	if len(parts) > 0 {
		s = strings.Join(parts, ", ")
	}
	if g.Problems > 0 {
		s += fmt.Sprintf(", %d unchecked", g.Problems)
	}
	return fmt.Sprintf("%s (%s)", s, g.Status)
}

// licences summarizes the licence gate by verdict (review, deny, unknown).
func licences(g *pipeline.GateResult) string {
	if g == nil || !g.Recorded || len(g.Verdict) == 0 {
		return gate(g)
	}
	var parts []string
	for _, v := range sortedKeys(g.Verdict) {
		parts = append(parts, fmt.Sprintf("%d %s", g.Verdict[v], v))
	}
	return fmt.Sprintf("%s (%s)", strings.Join(parts, ", "), g.Status)
}

func accessBlocks(a *Access) []Block {
	if a == nil {
		return nil
	}
	u := Block{Title: "Access review: users", Level: 1, Lines: []string{
		fmt.Sprintf("Admins: %s. No sign-in in the last 90 days (never signed in included, new users too): %s.", list(a.Admins), list(a.Inactive))},
		Header: []string{"USER", "ROLES", "ADMIN", "DISABLED", "LAST SIGN-IN", "INACTIVE 90D"}}
	for _, x := range a.Users {
		u.Rows = append(u.Rows, []string{x.Name, strings.Join(x.Roles, "; "), yes(x.Admin), yes(x.Disabled), optStamp(x.LastSignIn), yes(x.Inactive)})
	}
	t := Block{Title: "Access review: tokens", Level: 2, Lines: []string{fmt.Sprintf("%d active, %d revoked.", len(a.Tokens), a.Revoked)},
		Header: []string{"ID", "OWNER", "NAME", "KIND", "SCOPES", "AGE DAYS", "LAST USED", "EXPIRES", "FLAGS"}}
	for _, x := range a.Tokens {
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{x.NeverUsed, "never used"}, {x.Unused, "unused 90d"}, {x.Expired, "expired"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		scopes := strings.Join(x.Scopes, ",")
		if x.Scope != "" {
			scopes += " on " + x.Scope
		}
		t.Rows = append(t.Rows, []string{x.ID, x.Owner, dash(x.Name), x.Kind, dash(scopes), strconv.Itoa(x.AgeDays),
			optStamp(x.LastUsed), optStamp(x.Expires), dash(strings.Join(flags, ", "))})
	}
	return []Block{u, t}
}

func list(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}

func auditBlocks(s *AuditSection) []Block {
	if s == nil {
		return nil
	}
	verdict := fmt.Sprintf("Chain intact: %d records, %d signed checkpoints, signed through record %d, %d unsigned.",
		s.Chain.Records, s.Chain.Checkpoints, s.Chain.Signed, s.Chain.Unsigned)
	if !s.Chain.OK {
		verdict = fmt.Sprintf("CHAIN BROKEN at record %d: %s.", s.Chain.FirstBad, s.Chain.Problem)
	}
	lines := []string{verdict, fmt.Sprintf("In the window: %d records, %d changes, %d security events "+
		"(%d refused sign-ins, %d denied, %d rate-limited, %d failed changes).",
		s.Records, s.ChangesTotal, s.SecurityTotal, s.RefusedLogins, s.Denied, s.RateLimited, s.FailedChanges)}
	if s.Note != "" {
		lines = append(lines, s.Note)
	}
	c := Block{Title: "Audit", Level: 1, Lines: lines, Header: []string{"ACTION", "OUTCOME", "RECORDS"}}
	for _, a := range s.ByAction {
		c.Rows = append(c.Rows, []string{a.Action, a.Outcome, strconv.FormatInt(a.Count, 10)})
	}
	bk := records("Backups", s.Backups, false)
	bk.Lines = append([]string{"Last successful backup: " + optStamp(s.LastBackup) + "."}, bk.Lines...)
	return []Block{c, records("Change tracking", s.Changes, s.ChangesCut), records("Security events", s.Security, s.SecurityCut), bk}
}

func records(title string, recs []audit.Record, cut bool) Block {
	b := Block{Title: title, Level: 2, Header: []string{"SEQ", "AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"}}
	if len(recs) == 0 {
		b.Lines, b.Header = []string{"None in the window."}, nil
	}
	if cut {
		b.Lines = append(b.Lines, fmt.Sprintf("The first %d are listed; the audit log has them all (phoenix audit log).", ListLimit))
	}
	for _, r := range recs {
		b.Rows = append(b.Rows, []string{strconv.FormatInt(r.Seq, 10), stamp(r.At), dash(r.Actor), r.Action, dash(r.Target),
			r.Outcome, clip(r.Detail, 100)})
	}
	return b
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
