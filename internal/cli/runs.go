package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func parseRunID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, usererr.New(usererr.Usage, "run %q: want a run number (see phoenix runs)", s)
	}
	return id, nil
}

// onRun parses a RUN argument, connects to the server and calls fn.
func (g *Globals) onRun(ctx context.Context, arg string, fn func(ctx context.Context, t *target, id int64) error) error {
	id, err := parseRunID(arg)
	if err != nil {
		return err
	}
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	return fn(ctx, t, id)
}

func newRunsCmd(g *Globals) *cobra.Command {
	var project, status string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [--project P] [--status S]",
		Short: "List pipeline runs (releases and workflows), newest first",
		Long: `List the pipeline runs you may see, newest first: a run is shown to those
who may read every environment it acts on (a release to staging and then
production is not shown to a user or token limited to staging); one that
acts on no environment, to those who may read its project. A run you may
not see is "no run N" to phoenix logs, approve, cancel and retry.`,
		Example: "  phoenix runs\n  phoenix runs --status waiting\n  phoenix runs --project shop -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := errors.Join(g.checkRunStatus(status), g.checkLimit(limit)); err != nil {
				return err
			}
			ctx := cmd.Context()
			t, err := g.connect(ctx)
			if err != nil {
				return err
			}
			defer t.close()
			runs, err := t.client.Runs(ctx, project, status, limit)
			if err != nil {
				return err
			}
			return g.emit(runs, func(w io.Writer) error {
				tb := newTable(w, "run", "project", "what", "environments", "status", "by", "created", "message")
				for _, r := range runs {
					what := r.Version
					if r.Workflow != "" {
						what = "workflow " + r.Workflow
					}
					tb.row(r.ID, r.Project, dash(what), dash(strings.Join(r.Environments, ",")), r.Status, dash(r.Actor),
						r.Created.Local().Format(time.DateTime), dash(r.Message))
				}
				return tb.flush()
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&project, "project", "p", "", "only this project")
	f.StringVar(&status, "status", "", "only runs in this status: "+strings.Join(pipeline.RunStatuses, ", "))
	f.IntVar(&limit, "limit", 20, "how many to show")
	return cmd
}

// checkRunStatus refuses a --status (or PHOENIX_STATUS) no run can have
// (it would list none).
func (g *Globals) checkRunStatus(status string) error {
	if status == "" || slices.Contains(pipeline.RunStatuses, status) {
		return nil
	}
	return usererr.New(usererr.Usage, "%s %q: want one of %s", g.flagOrEnv("status"), status, strings.Join(pipeline.RunStatuses, ", "))
}

func newLogsCmd(g *Globals) *cobra.Command {
	var follow bool
	var step string
	cmd := &cobra.Command{
		Use:   "logs RUN [-f] [--step STEP]",
		Short: "Print a run's logs (secrets masked); -f follows until it finishes",
		Example: `  phoenix logs 42
  phoenix logs 42 -f
  phoenix logs 42 --step build/build
  phoenix logs 42 -o json     # JSON lines: {"run":42,"step":"build","line":"..."}`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			err := g.onRun(ctx, args[0], func(ctx context.Context, t *target, id int64) error {
				if g.Output != "json" {
					return t.client.Logs(ctx, id, step, follow, g.Stdout)
				}
				jl := &logLines{w: g.Stdout, run: id, step: step}
				return errors.Join(t.client.Logs(ctx, id, step, follow, jl), jl.Close())
			})
			if stopped(ctx, err) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep streaming until the run finishes")
	cmd.Flags().StringVar(&step, "step", "", "only this step's log, without the step prefix (e.g. build, deploy/staging)")
	return cmd
}

// stopped reports whether err comes from the command being stopped (Ctrl-C
// or SIGTERM end its context): watching a log is then done, not failed, and
// ends quietly with exit 0, as phoenix server does.
func stopped(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil
}

func newCancelCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "cancel RUN",
		Short:   "Cancel a queued or running run (its steps are stopped)",
		Example: "  phoenix cancel 42",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.onRun(cmd.Context(), args[0], func(ctx context.Context, t *target, id int64) error {
				d, err := t.client.CancelRun(ctx, id)
				if err != nil {
					return err
				}
				return g.emit(d, func(w io.Writer) error {
					if pipeline.Finished(d.Status) { // a queued run is cancelled at once
						_, err := fmt.Fprintf(w, "run %d: %s\n", id, d.Status)
						return err
					}
					// A run under way stops its steps first (SIGTERM, then
					// SIGKILL 5 s later): its status is still the old one.
					_, err := fmt.Fprintf(w, "run %d: cancel requested; its steps are being stopped (phoenix logs %d -f follows it to the end)\n", id, id)
					return err
				})
			})
		},
	}
}

func newRetryCmd(g *Globals) *cobra.Command {
	var detach bool
	cmd := &cobra.Command{
		Use:   "retry RUN",
		Short: "Run a failed, cancelled or interrupted run's plan again",
		Long: `Queue run RUN's plan again: the same version, environments and steps
(the stages a release to some environments left out stay out). A run that
built a clean checkout of its commit is retried at that commit exactly, in
a fresh checkout, whatever the project folder holds now. A run built in
place (release --in-place) is built from the project folder as it is now:
the run records the folder's commit at the retry (with +dirty for
uncommitted changes), and its log says when that is not RUN's. The logs
stream here until the run finishes (unless --detach).`,
		Example: "  phoenix retry 42",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.onRun(cmd.Context(), args[0], func(ctx context.Context, t *target, id int64) error {
				r, err := t.client.RetryRun(ctx, id)
				if err != nil {
					return err
				}
				if detach && !t.inProcess {
					return g.emit(r, func(w io.Writer) error {
						_, err := fmt.Fprintf(w, "run %d queued (retry of %d)\nfollow it with: phoenix logs %d -f\n", r.ID, id, r.ID)
						return err
					})
				}
				fmt.Fprintf(g.Stderr, "run %d: retry of %d\n", r.ID, id)
				return followRun(ctx, g, t, r.ID)
			})
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "return once the run is queued")
	return cmd
}

type approveOptions struct {
	env, comment, reason string
	reject               bool
}

func newApproveCmd(g *Globals) *cobra.Command {
	o := &approveOptions{}
	cmd := &cobra.Command{
		Use:   "approve RUN [--env ENV] [--comment TEXT] | approve RUN --reject --reason TEXT",
		Short: "Approve (or reject) a run's deployment to a protected environment",
		Long: `Approve run RUN at its approval gate (the one it waits at, or --env's). The
releaser cannot approve their own release; each approver counts once. With
--reject the run fails at the gate; a reason is required.`,
		Example: `  phoenix approve 42 --comment "checked staging"
  phoenix approve 42 --reject --reason "waiting for the marketing go-ahead"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runApprove(cmd.Context(), g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.env, "env", "e", "", "the gate's environment (default: the one the run waits at)")
	f.StringVar(&o.comment, "comment", "", "a note for the audit log")
	f.BoolVar(&o.reject, "reject", false, "reject instead of approving")
	f.StringVar(&o.reason, "reason", "", "why (required with --reject)")
	return cmd
}

func runApprove(ctx context.Context, g *Globals, o *approveOptions, arg string) error {
	id, err := parseRunID(arg)
	if err != nil {
		return err
	}
	if o.reject && strings.TrimSpace(o.reason) == "" {
		return usererr.New(usererr.Usage, "--reject needs --reason").WithHint(`phoenix approve %d --reject --reason "..."`, id)
	}
	if !o.reject && o.reason != "" {
		return usererr.New(usererr.Usage, "--reason goes with --reject; use --comment to approve with a note")
	}
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	verb := "approved"
	if o.reject {
		verb, err = "rejected", t.client.Reject(ctx, id, o.env, o.reason)
	} else {
		err = t.client.Approve(ctx, id, o.env, o.comment)
	}
	if err != nil {
		return err
	}
	return g.emit(map[string]any{"run": id, "decision": verb}, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "run %d: %s\n", id, verb)
		return err
	})
}
