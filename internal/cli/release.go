package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type releaseOptions struct {
	envs    []string
	dir     string
	commit  string
	detach  bool
	inPlace bool
}

func newReleaseCmd(g *Globals) *cobra.Command {
	o := &releaseOptions{}
	cmd := &cobra.Command{
		Use:   "release VERSION [--env ENV]...",
		Short: "Release a version through the project's pipeline",
		Long: `Queue a release of the project in --dir (default: this folder) through its
pipeline: security gates, build, tests, signed artifact, deployment to each
environment in turn (behind approvals where phoenix.yaml asks for them),
health checks, and rollback when one fails. The logs stream here until the
run finishes; the exit code is 0 only when it succeeded.

With --env the release goes to those environments only. A pipeline of your
own runs the stages that lead there and leaves out those that act only on
other environments (and those needing only them): --env staging builds and
deploys to staging and stops, without production's approval gate; a later
release of the same version with --env production promotes it (where
production has promote_from: staging, it deploys the artifact staging ran of
that version, not a build of its own). The run says which stages it left out
and why.

The server reads the project from its own disk: the folder must be
reachable by the server under the same absolute path (a server on this
machine, or one started for this command). When the folder is in a git
repository, the run builds a clean checkout of its commit (HEAD, or
--commit) made in the run's own folder, in the project's sub-folder of the
repository: uncommitted changes are not built (a warning says so), the run
records exactly that commit, and nothing is installed or built in your
folder. The steps read phoenix.yaml's settings from that commit too.
--in-place builds the folder as it is instead, uncommitted changes
included (recorded as <commit>+dirty), installing node_modules and
writing the build's output there; a folder outside git is always built in
place.`,
		Example: `  phoenix release v1.4.0                  # to every release environment of phoenix.yaml
  phoenix release v1.4.1 --env staging    # the stages up to staging; production's are left out
  phoenix release v1.4.1 --env production # the same version on to production
  phoenix release v1.5.0 --detach         # queue it and return; follow with phoenix logs RUN -f
  phoenix release v1.5.0 --commit v1.5.0  # build the tag, whatever is checked out
  phoenix release v1.5.1 --in-place       # build the folder as it is, uncommitted changes included`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRelease(cmd.Context(), g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.envs, "env", "e", nil, "environment to release to (repeatable; default: the release environments of phoenix.yaml); stages for others are left out")
	f.StringVar(&o.dir, "dir", ".", "the project folder (holds phoenix.yaml)")
	f.StringVar(&o.commit, "commit", "", "commit to build: a commit, tag or branch of the folder's repository (default: HEAD); with --in-place only recorded")
	f.BoolVar(&o.inPlace, "in-place", false, "build the folder as it is, uncommitted changes included, not a clean checkout of the commit")
	f.BoolVar(&o.detach, "detach", false, "return once the run is queued (not with an in-process server)")
	return cmd
}

func runRelease(ctx context.Context, g *Globals, o *releaseOptions, version string) error {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "phoenix.yaml")); err != nil {
		return usererr.New(usererr.Usage, "no phoenix.yaml in %s", dir).WithHint("run it in the project folder, pass --dir, or run phoenix init")
	}
	// The server checks both again; here they are usage errors, found
	// before a server is reached or started.
	cfg, err := config.Load(filepath.Join(dir, "phoenix.yaml"))
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings { // what phoenix validate would say, before it runs
		fmt.Fprintln(g.Stderr, w.String())
	}
	if _, err := action.ParseVersion(version, cfg.Release.TagPrefix); err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error())
	}
	if err := checkSourceSWAConfig(g, filepath.Join(dir, cfg.Build.App)); err != nil {
		return err
	}
	if o.commit == "" {
		for _, w := range releaseGitWarnings(ctx, dir, version, cfg.Release.TagPrefix, o.inPlace) {
			fmt.Fprintln(g.Stderr, "warning: "+w)
		}
	}
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	run, err := t.client.Release(ctx, api.ReleaseRequest{Dir: dir, Version: version, Environments: o.envs, Commit: o.commit, InPlace: o.inPlace})
	if err != nil {
		return err
	}
	if o.detach && !t.inProcess {
		return g.emit(run, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "run %d queued: %s %s to %s\nfollow it with: phoenix logs %d -f\n", run.ID, run.Project, run.Version, envList(run.Environments), run.ID)
			return err
		})
	}
	if o.detach { // an in-process server's runs end with this command
		fmt.Fprintln(g.Stderr, "note: --detach needs a running server (phoenix server, or --server URL): the run goes on here until it ends")
	}
	fmt.Fprintf(g.Stderr, "run %d: releasing %s %s to %s\n", run.ID, run.Project, run.Version, envList(run.Environments))
	return followRun(ctx, g, t, run.ID)
}

// checkSourceSWAConfig checks the staticwebapp.config.json the build of
// the app in appDir copies into its output, as phoenix validate does:
// otherwise a mistake in it stops the release only at create-artifact,
// after the whole build, and names the build's copy rather than the file
// to edit. Its warnings are printed; its problems are a usage error.
func checkSourceSWAConfig(g *Globals, appDir string) error {
	for _, f := range swaConfigsIn(appDir) {
		c := validateFile(f)
		for _, w := range c.Warnings {
			fmt.Fprintln(g.Stderr, "warning: "+w)
		}
		if len(c.Errors) > 0 {
			return usererr.New(usererr.Usage, "%s", strings.Join(c.Errors, "\n")).
				WithHint("fix %s (phoenix validate lists every problem); the build copies it into the site", f)
		}
	}
	return nil
}

// envList is a run's environments as a sentence lists them: "staging,
// production" (not Go's [staging production]).
func envList(envs []string) string {
	if len(envs) == 0 {
		return "its pipeline's environments"
	}
	return strings.Join(envs, ", ")
}

// followRun streams a run's logs (not in JSON mode) until it finishes,
// then reports it; a run that did not succeed is an error, and so is a
// follow stopped by Ctrl-C, which says what became of the run.
func followRun(ctx context.Context, g *Globals, t *target, id int64) error {
	c := t.client
	w := g.Stdout
	if g.Output == "json" {
		w = io.Discard
	}
	// A run queued behind another prints nothing until it starts: say
	// what it waits for (a release waiting at production's approval holds
	// staging too).
	if d, err := c.Run(ctx, id); err == nil && d.Status == pipeline.Queued && d.Message != "" {
		fmt.Fprintf(g.Stderr, "run %d %s; it starts once that run is done (phoenix runs)\n", id, d.Message)
	}
	if t.inProcess {
		w = &gateNote{w: w, note: func() { fmt.Fprintf(g.Stderr, inProcessGateNote, g.Data, id, g.Data) }}
	}
	if err := followLogs(ctx, c, g.Stderr, id, w); err != nil {
		if stopped(ctx, err) {
			return stoppedFollowing(id, t.inProcess)
		}
		return err
	}
	d, err := c.Run(ctx, id)
	if err != nil {
		return err
	}
	if err := g.emit(d, func(w io.Writer) error { return printRunSummary(w, d) }); err != nil {
		return err
	}
	if d.Status != pipeline.Succeeded {
		err := usererr.New(usererr.Internal, "run %d %s: %s", d.ID, d.Status, d.Message)
		if failedAtTag(d) {
			return err.WithHint("see phoenix logs %d; a retry would release the same version again: release another one", d.ID)
		}
		return err.WithHint("see phoenix logs %d; retry with phoenix retry %d", d.ID, d.ID)
	}
	return nil
}

// failedAtTag reports whether a step of d using validate-tag failed: the
// version is not one to release (not greater than the last, not in the
// changelog), which phoenix retry, running the same version again, cannot
// mend.
func failedAtTag(d pipeline.RunDetail) bool {
	if d.Plan == nil {
		return false
	}
	for _, st := range d.Steps {
		if st.Status != pipeline.Failed {
			continue
		}
		for _, ps := range d.Plan.Steps {
			if ps.ID == st.ID && ps.Uses == "validate-tag" {
				return true
			}
		}
	}
	return false
}

// inProcessGateNote is what a release followed by its own in-process
// server says at an approval gate: the releaser cannot approve, there is
// no dashboard to approve on, and without it the command seems to hang.
const inProcessGateNote = "note: this release runs in this command's own server (no phoenix server holds %s), so its approval comes from another shell: " +
	"an approver other than you runs phoenix approve %d --token THEIR_TOKEN --data %s (phoenix user add NAME --role approver; phoenix token create --user NAME); " +
	"or press Ctrl-C: the run waits at its gate, and phoenix server on this data dir goes on with it\n"

// gateMarker is the start of the line the pipeline writes in a run's log
// when it asks for an approval (pipeline's howToApprove).
const gateMarker = "approve with phoenix approve "

// gateNote passes a run's log on to w and calls note once, when the log
// reaches an approval gate (gateMarker, which may be split across writes).
type gateNote struct {
	w    io.Writer
	note func()
	seen bool
	tail []byte
}

func (n *gateNote) Write(p []byte) (int, error) {
	if !n.seen {
		buf := append(n.tail, p...)
		if bytes.Contains(buf, []byte(gateMarker)) {
			n.seen = true
			defer n.note() // after the log's own line
		}
		n.tail = append(n.tail[:0], buf[max(0, len(buf)-len(gateMarker)):]...)
	}
	return n.w.Write(p)
}

// stoppedFollowing is the error of a follow of run id stopped by a signal:
// a server goes on with the run; a command's own server stopped with it,
// interrupting the run, unless it was only waiting for an approval (it
// waits on for the next server).
func stoppedFollowing(id int64, inProcess bool) error {
	if inProcess {
		return usererr.New(usererr.Internal, "stopped: run %d stopped with this command's server", id).
			WithHint("if a step was running it is interrupted: start it again with phoenix retry %d; if it was waiting for an approval it waits on, and phoenix server on this data dir goes on with it", id)
	}
	return usererr.New(usererr.Internal, "stopped following run %d; the server goes on with it", id).
		WithHint("follow it again with phoenix logs %d -f, or cancel it with phoenix cancel %d", id, id)
}

func printRunSummary(w io.Writer, d pipeline.RunDetail) error {
	fmt.Fprintf(w, "\nrun %d %s (%s %s", d.ID, d.Status, d.Project, d.Version)
	if d.Workflow != "" {
		fmt.Fprintf(w, ", workflow %s", d.Workflow)
	}
	fmt.Fprintln(w, ")")
	tb := newTable(w, "step", "status", "attempts", "took", "error")
	for _, st := range d.Steps {
		took := ""
		if !st.Started.IsZero() && !st.Finished.IsZero() {
			took = st.Finished.Sub(st.Started).Round(time.Millisecond).String()
		}
		tb.row(st.ID, st.Status, st.Attempts, dash(took), dash(st.Error))
	}
	if err := tb.flush(); err != nil {
		return err
	}
	printLeftOut(w, d.Plan)
	return nil
}

// printLeftOut says which steps the run does not have, as its plan
// recorded: those of the stages the release left out for acting on other
// environments, and the gates phoenix.yaml disabled. They are not in the
// table above, and are not to look merely forgotten.
func printLeftOut(w io.Writer, p *spec.Plan) {
	if p == nil {
		return
	}
	for _, o := range p.Omitted {
		fmt.Fprintf(w, "skipped: %s: %s\n", strings.Join(o.Steps, ", "), o.Why())
	}
	for _, c := range p.LeftOut() {
		at := ""
		if c.At != "" {
			at = ", " + c.At
		}
		fmt.Fprintf(w, "disabled: check/%s (%s%s): this release ran without it\n", c.Check, c.Setting, at)
	}
}
