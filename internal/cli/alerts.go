package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newAlertsCmd(g *Globals) *cobra.Command {
	var all, history bool
	var limit int
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List open alerts; silence them",
		Long: `List alerts that are pending or firing (--all: every alert the monitor knows,
including resolved ones; --history: the state changes, newest first). The ID
(RULE@ENV, ENV being environment.project or host) is what 'phoenix alerts ack'
takes.`,
		Example: `  phoenix alerts
  phoenix alerts --history --limit 50
  phoenix alerts ack HighErrorRate@production.shop --comment "rolling back the CDN change"
  phoenix alerts silence HighLatency --project shop --env production --for 2h --comment "CDN migration"
  phoenix alerts silence --maintenance --project shop --env production --for 30m --comment "database upgrade"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.started = true
			return runAlerts(cmd.Context(), g, all, history, limit)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include inactive and resolved alerts")
	cmd.Flags().BoolVar(&history, "history", false, "show state changes instead")
	cmd.Flags().IntVar(&limit, "limit", 50, "history entries to show")
	cmd.AddCommand(newSilenceCmd(g), newSilencesCmd(g), newExpireCmd(g), newAckCmd(g), newUnackCmd(g))
	return cmd
}

func runAlerts(ctx context.Context, g *Globals, all, history bool, limit int) error {
	if err := g.checkLimit(limit); err != nil {
		return err
	}
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	if history {
		h, err := t.client.AlertHistory(ctx, limit)
		if err != nil {
			return err
		}
		return g.emit(h, func(w io.Writer) error {
			tb := newTable(w, "at", "rule", "environment", "state", "severity", "summary")
			for _, e := range h {
				state := e.State
				if e.Silenced {
					state += " (silenced)"
				}
				tb.row(e.At.Local().Format("2006-01-02 15:04:05"), e.Rule, dash(envLabel(e.Environment)), state, notify.SeverityName(e.Severity), e.Summary)
			}
			return tb.flush()
		})
	}
	as, err := t.client.Alerts(ctx, all)
	if err != nil {
		return err
	}
	return g.emit(as, func(w io.Writer) error {
		if len(as) == 0 && all {
			fmt.Fprintln(w, "no alerts, open or resolved")
			return nil
		}
		if len(as) == 0 {
			fmt.Fprintln(w, "no open alerts")
			return nil
		}
		tb := newTable(w, "id", "state", "severity", "since", "acknowledged", "summary")
		for _, a := range as {
			state := a.State
			if a.Silenced {
				state += " (silenced)"
			}
			tb.row(a.ID, state, notify.SeverityName(a.Severity), a.Since.Local().Format("2006-01-02 15:04:05"), ackLabel(a.Ack), a.Summary)
		}
		return tb.flush()
	})
}

func newSilenceCmd(g *Globals) *cobra.Command {
	var req api.SilenceRequest
	var dur time.Duration
	cmd := &cobra.Command{
		Use: "silence [RULE]",
		Example: `  phoenix alerts silence HighErrorRate --env production --project shop --for 2h --comment "moving the database"
  phoenix alerts silence HighErrorRate@production.shop --for 1h --comment "rolling back"
  phoenix alerts silence --maintenance --env production --project shop --for 30m --comment "planned upgrade"`,
		Short: "Hold back notifications of matching alerts for a while",
		Long: `Hold back notifications of alerts whose rule matches RULE (* matches any run
of characters; no RULE: every rule) in --env of --project (neither: every
environment, which needs env.write). An alert's ID (the ID column of
'phoenix alerts', Down@production.shop) stands for its rule in its
environment; a server's alert's (HighCPU@host, certificate-expiry@tls:…)
for its rule everywhere. Alerts still change state and are kept
in the history. With --maintenance the silence is a maintenance window: the
status page shows maintenance.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.started = true
			if len(args) == 1 {
				req.Rule = args[0]
				if err := silenceOfAlertID(&req); err != nil {
					return err
				}
			}
			if dur <= 0 {
				return usererr.New(usererr.Usage, "--for must be positive").WithHint("e.g. --for 2h")
			}
			if req.Environment != "" && req.Project == "" {
				return usererr.New(usererr.Usage, "--env needs --project").WithHint("e.g. --project shop --env production")
			}
			if req.Project != "" && req.Environment == "" {
				return usererr.New(usererr.Usage, "--project needs --env: a silence covers one environment, or every one").
					WithHint("e.g. --project %s --env production, or leave both out to silence every environment", req.Project)
			}
			req.For = dur.String()
			return runSilence(cmd.Context(), g, req)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Environment, "env", "e", "", "environment (default: all)")
	f.StringVarP(&req.Project, "project", "p", "", "the environment's project")
	durationVar(f, &dur, "for", time.Hour, "how long the silence lasts, e.g. 30m, 2h or 1d")
	f.StringVar(&req.Comment, "comment", "", "why (required for silences)")
	f.BoolVar(&req.Maintenance, "maintenance", false, "record a maintenance window")
	return cmd
}

// silenceOfAlertID reads a RULE that is an alert's ID, as the ID column
// of 'phoenix alerts' and the messages give it (Down@production.shop, or
// Down@shop/production as 'phoenix status' and the history name the
// environment), as that alert's rule in its environment; a server's
// alert's (host, tls:…) as its rule everywhere. No rule is named so, and
// a silence of that name would hold nothing back while the alert went on
// paging. --project and --env, if given, must name the same environment.
func silenceOfAlertID(req *api.SilenceRequest) error {
	i := strings.LastIndexByte(req.Rule, '@')
	if i <= 0 || i == len(req.Rule)-1 {
		return nil
	}
	rule, instance := req.Rule[:i], req.Rule[i+1:]
	if instance == "host" || monitor.ServerInstance(instance) {
		req.Rule = rule
		return nil
	}
	project, env := monitor.SplitInstance(instance)
	if p, e, ok := strings.Cut(instance, "/"); ok { // shop/production, as phoenix status prints it
		project, env = p, e
	}
	if project == "" || env == "" {
		return nil // not RULE@ENV.PROJECT: a rule name with an @, left as given
	}
	if (req.Project != "" && req.Project != project) || (req.Environment != "" && req.Environment != env) {
		return usererr.New(usererr.Usage, "%s is the alert of %s/%s, not of --project %s --env %s", req.Rule, project, env, req.Project, req.Environment).
			WithHint("leave --project and --env out: the alert's ID names its environment")
	}
	req.Rule, req.Project, req.Environment = rule, project, env
	return nil
}

func runSilence(ctx context.Context, g *Globals, req api.SilenceRequest) error {
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	s, err := t.client.AddSilence(ctx, req)
	if err != nil {
		return err
	}
	return g.emit(s, func(w io.Writer) error {
		fmt.Fprintf(w, "%s %d until %s\n", s.Kind, s.ID, silenceTime(s.Ends))
		return nil
	})
}

// silenceTime is a silence's start or end in the local zone, to the
// minute when it falls on one, else to the second: a 90 s silence ends
// at 17:16:30, not "17:16", which reads as over already.
func silenceTime(t time.Time) string {
	if t = t.Local(); t.Second() == 0 {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("2006-01-02 15:04:05")
}

func newSilencesCmd(g *Globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use: "silences",
		Example: `  phoenix alerts silences
  phoenix alerts silences --all -o json`,
		Short: "List silences and maintenance windows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.started = true
			t, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer t.close()
			ss, err := t.client.Silences(cmd.Context(), all)
			if err != nil {
				return err
			}
			return g.emit(ss, func(w io.Writer) error {
				if len(ss) == 0 {
					_, err := fmt.Fprintln(w, map[bool]string{false: "no silence or maintenance window in force", true: "no silences or maintenance windows"}[all])
					return err
				}
				tb := newTable(w, "id", "kind", "rule", "environment", "starts", "ends", "by", "comment")
				for _, s := range ss {
					tb.row(s.ID, s.Kind, orAll(s.Rule, "every rule"), orAll(envLabel(s.Environment), "everywhere"),
						silenceTime(s.Starts), silenceTime(s.Ends), dash(s.CreatedBy), s.Comment)
				}
				return tb.flush()
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include silences and maintenance windows that have ended")
	return cmd
}

func newExpireCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "expire ID",
		Example: `  phoenix alerts silences          # the ID column
  phoenix alerts expire 3`,
		Short: "End a silence or maintenance window now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.started = true
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usererr.New(usererr.Usage, "%q is not a silence id", args[0]).WithHint("see 'phoenix alerts silences'")
			}
			t, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer t.close()
			if err := t.client.ExpireSilence(cmd.Context(), id); err != nil {
				return err
			}
			return g.emit(map[string]any{"id": id, "ended": true}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "silence %d ended\n", id)
				return err
			})
		},
	}
}

// orAll shows a silence's empty rule or environment as what it covers
// (every rule, everywhere), where a dash would read as none.
func orAll(v, all string) string {
	if v == "" {
		return all
	}
	return v
}
