package cli

import (
	"context"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/report"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// markdownOK is the annotation of commands whose -o accepts markdown.
const markdownOK = "phoenix-output-markdown"

type reportOpts struct {
	since, from, to, project string
	sections                 []string
}

func newReportCmd(g *Globals) *cobra.Command {
	var o reportOpts
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Compliance and performance report: availability, DORA, incidents, security, access review, audit",
		Long: `Build a report over a window (the last 30 days by default) from what the server
stores: availability, traffic and latency per environment against the SLO;
deployments, change failure rate, release durations and time to restore;
the alerts that fired and who acknowledged them; the security gates of the
newest release and of the one live in production; the access review (users,
roles, last sign-in, tokens; needs users.manage); and the audit log's
verification, changes and security events (needs audit.read).

-o table (default) prints tables, -o markdown a document to hand to an auditor,
-o json the report as the API returns it.`,
		Example: `  phoenix report
  phoenix report --since 90d --project shop -o markdown > q3-review.md
  phoenix report --from 2026-10-01 --to 2026-10-31 --section access --section audit
  phoenix report --section performance,delivery -o json`,
		Annotations: map[string]string{markdownOK: "yes"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "window: this long back from now (30d, 12h, 2w); default 30d")
	f.StringVar(&o.from, "from", "", "window start: a date (2026-10-01) or an RFC 3339 time")
	f.StringVar(&o.to, "to", "", "window end: a date (through that day) or an RFC 3339 time; default now")
	f.StringVar(&o.project, "project", "", "one project (default: every project you may read)")
	f.StringSliceVar(&o.sections, "section", nil, "section to include, repeatable: performance, delivery, incidents, security, access, audit")
	return cmd
}

// query checks the flags here, so a mistake names the flag (or the
// PHOENIX_* variable that gave it: name), and turns them into the API's
// query.
func (o reportOpts) query(now time.Time, name func(flag string) string) (string, error) {
	if o.since != "" && o.from != "" {
		return "", usererr.New(usererr.Usage, "%s and %s both give the window's start", name("since"), name("from")).WithHint("use one of them")
	}
	from, fromFlag := o.from, name("from")
	if o.since != "" {
		if _, err := report.ParseAgo(o.since); err != nil {
			return "", usererr.New(usererr.Usage, "%s %q: %v", name("since"), o.since, err).WithHint("write e.g. --since 30d, 12h or 2w")
		}
		from, fromFlag = o.since, name("since")
	}
	if _, _, err := report.ParseWindow(from, o.to, now, fromFlag, name("to")); err != nil {
		return "", usererr.Wrap(usererr.Usage, err, err.Error()) // a flag's mistake; the hint is err's
	}
	secs, err := report.ParseSections(o.sections)
	if err != nil {
		return "", usererr.Wrap(usererr.Usage, err, "--section: "+err.Error()).WithHint("sections are performance, delivery, incidents, security, access, audit")
	}
	q := url.Values{}
	for k, v := range map[string]string{"from": from, "to": o.to, "project": o.project} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(o.sections) > 0 {
		for _, s := range secs {
			q.Add("sections", s)
		}
	}
	return q.Encode(), nil
}

func runReport(ctx context.Context, g *Globals, o reportOpts) error {
	q, err := o.query(time.Now(), g.flagOrEnv)
	if err != nil {
		return err
	}
	var r report.Report
	if err := g.do(ctx, "GET", "/api/v1/report?"+q, nil, &r); err != nil {
		return err
	}
	if g.Output == "markdown" {
		return report.WriteMarkdown(g.Stdout, &r)
	}
	return g.emit(&r, func(w io.Writer) error { return report.WriteText(w, &r) })
}
