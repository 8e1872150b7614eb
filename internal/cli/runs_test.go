package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// stopOnWrite is a terminal whose user presses Ctrl-C once the first
// bytes are on screen: it ends the command's context.
type stopOnWrite struct {
	out  bytes.Buffer
	stop context.CancelFunc
}

func (w *stopOnWrite) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	w.stop()
	return n, err
}

// TestLogsFollowEndsQuietlyWhenStopped: 'phoenix logs RUN -f' on a run
// waiting at its gate, stopped as Ctrl-C stops it (the context Main makes
// ends), prints what it had and no error, and exits 0.
// gatedServer starts a server on a new data dir with a project folder
// whose production release waits for one approval; it returns both.
func gatedServer(t *testing.T) (a *app.App, data, dir string) {
	t.Helper()
	data, dir = gatedProject(t)
	return startServer(t, data), data, dir
}

// gatedProject makes a data dir and a project folder whose production
// release waits for one approval, and returns both.
func gatedProject(t *testing.T) (data, dir string) {
	t.Helper()
	noMasterKey(t)
	data, dir = t.TempDir(), t.TempDir()
	yaml := "project: {name: shop}\nenvironments: {production: {protection: {approvals: 1}}}\npipeline:\n  stages:\n" +
		"    - {name: ship, environment: production, steps: [{name: deploy, run: \"true\"}]}\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, dir
}

// runStopped runs the command line args and presses Ctrl-C once it has
// written something; it returns the exit code, stdout and stderr.
func runStopped(args ...string) (int, string, string) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var errb bytes.Buffer
	out := &stopOnWrite{stop: stop}
	g := &Globals{Stdin: strings.NewReader(""), Stdout: out, Stderr: &errb}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(&errb)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(&errb, err)
	}
	return usererr.ExitCode(err), out.out.String(), errb.String()
}

// TestLogsFollowEndsQuietlyWhenStopped: 'phoenix logs RUN -f' on a run
// waiting at its gate, stopped as Ctrl-C stops it (the context Main makes
// ends), prints what it had and no error, and exits 0.
func TestLogsFollowEndsQuietlyWhenStopped(t *testing.T) {
	a, data, dir := gatedServer(t)
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: "1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runStopped("logs", strconv.FormatInt(run.ID, 10), "-f", "--data", data)
	if code != 0 || errs != "" || !strings.Contains(out, "waiting for 1 approval") {
		t.Fatalf("stopped follow: exit %d, stderr %q, stdout %q", code, errs, out)
	}
}

// TestReleaseStoppedWhileFollowing: Ctrl-C on 'phoenix release' following
// its run on a server says the server goes on with the run and how to
// follow it again, exit 1 (the release did not finish here), not
// 'context canceled'.
func TestReleaseStoppedWhileFollowing(t *testing.T) {
	_, data, dir := gatedServer(t)
	code, _, errs := runStopped("release", "1.0.0", "--dir", dir, "--data", data)
	if code != 1 || !strings.Contains(errs, "error: stopped following run 1; the server goes on with it") ||
		!strings.Contains(errs, "phoenix logs 1 -f") || strings.Contains(errs, "context canceled") {
		t.Fatalf("stopped release: exit %d, stderr %q", code, errs)
	}
}

// TestInProcessReleaseStoppedAtItsGateWaitsOn: Ctrl-C on 'phoenix release'
// without a server, while its run waits at its gate, stops the command's
// server and leaves the run waiting, not interrupted, and says so; the
// next 'phoenix server' on the data dir goes on with it once approved.
func TestInProcessReleaseStoppedAtItsGateWaitsOn(t *testing.T) {
	data, dir := gatedProject(t)
	code, _, errs := runStopped("release", "1.0.0", "--dir", dir, "--data", data)
	if code != 1 || !strings.Contains(errs, "error: stopped: run 1 stopped with this command's server") ||
		!strings.Contains(errs, "if it was waiting for an approval it waits on") {
		t.Fatalf("stopped release: exit %d, stderr %q", code, errs)
	}
	a := startServer(t, data)
	ctx := context.Background()
	if d, err := a.Pipeline.Get(ctx, 1); err != nil || d.Status != pipeline.Waiting {
		t.Fatalf("the run after the command: %+v %v", d, err)
	}
	if _, err := a.Auth.CreateUser(ctx, "bob", "", []auth.Grant{{Role: auth.RoleApprover}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Pipeline.Approve(ctx, 1, "", "bob", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Pipeline.Logs(ctx, 1, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if d, _ := a.Pipeline.Get(ctx, 1); d.Status != pipeline.Succeeded {
		t.Fatalf("the run after its approval: %s %s", d.Status, d.Message)
	}
}

// stopOnText is a terminal whose user presses Ctrl-C once text is on it.
type stopOnText struct {
	text string
	out  bytes.Buffer
	stop context.CancelFunc
}

func (w *stopOnText) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	if strings.Contains(w.out.String(), w.text) {
		w.stop()
	}
	return n, err
}

// TestReleaseQueuedBehindAnotherSaysSo: 'phoenix release' of a version
// while another release waits at production's gate used to print its
// first line and then nothing however long it waited; it says which run
// holds the environment. And 'phoenix cancel' of the waiting run said
// "cancel requested (now waiting)", as if it had not taken; it says the
// steps are being stopped, and of the queued one that it is cancelled.
func TestReleaseQueuedBehindAnotherSaysSo(t *testing.T) {
	a, data, dir := gatedServer(t)
	first, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: "1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	errb := &stopOnText{text: "queued", stop: stop}
	g := &Globals{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: errb}
	root := newRoot(g)
	root.SetArgs([]string{"release", "1.1.0", "--dir", dir, "--data", data})
	root.SetErr(errb)
	root.ExecuteContext(ctx) // stopped once it said it is queued
	want := "run 2 queued: environment shop/production is held by run 1; it starts once that run is done (phoenix runs)\n"
	if !strings.Contains(errb.out.String(), want) {
		t.Fatalf("stderr %q, want %q", errb.out.String(), want)
	}

	if out, errs, code := run("cancel", "2", "--data", data); code != 0 || out != "run 2: cancelled\n" {
		t.Errorf("cancel of the queued run: exit %d, %q %q", code, out, errs)
	}
	// The waiting run is cancelled while the answer is made: either is true.
	out, errs, code := run("cancel", strconv.FormatInt(first.ID, 10), "--data", data)
	if code != 0 || out != "run 1: cancel requested; its steps are being stopped (phoenix logs 1 -f follows it to the end)\n" &&
		out != "run 1: cancelled\n" {
		t.Errorf("cancel of the waiting run: exit %d, %q %q", code, out, errs)
	}
}

// TestRunsShowAWorkflowsEnvironments: phoenix runs (the table and -o json)
// shows, for a workflow run, the environments it acts on: that of the
// event that started it and those its steps name. Before, a workflow a
// production deployment started showed "-" in the environments column
// and no environments in JSON, as if it touched none.
func TestRunsShowAWorkflowsEnvironments(t *testing.T) {
	dir, data := releaseProject(t, "project: {name: shop}\nenvironments: {staging: {}, production: {}}\n"+
		"workflows:\n  tell:\n    triggers:\n      - {event: deploy.succeeded, environment: production}\n"+
		"    steps:\n      - {name: show, run: \"true\"}\n"+
		"  check:\n    triggers:\n      - {event: deploy.succeeded, environment: production}\n"+
		"    steps:\n      - {name: look, uses: health-check, with: {environment: staging}}\n"+
		"pipeline:\n  stages:\n    - {name: ship, environment: production, steps: [{name: deploy, run: \"true\"}]}\n")
	a := startServer(t, data)
	ctx := context.Background()
	run, err := a.Pipeline.Release(ctx, pipeline.ReleaseRequest{Dir: dir, Version: "v1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Pipeline.Logs(ctx, run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	a.Pipeline.Events().Publish(ctx, trigger.Event{Name: "deploy.succeeded", Project: "shop", Environment: "production"})
	a.Pipeline.Events().Wait() // the workflows' runs are queued
	var seen []string
	r := phx(&seen, "", "runs", "--data", data, "-o", "json")
	var runs []pipeline.Run
	if err := json.Unmarshal([]byte(r.out), &runs); err != nil || r.code != 0 {
		t.Fatalf("runs -o json: exit %d, %v:\n%s%s", r.code, err, r.out, r.err)
	}
	want := map[string]string{"": "staging,production", "tell": "production", "check": "staging,production"}
	if len(runs) != len(want) {
		t.Fatalf("runs: %+v", runs)
	}
	for _, run := range runs {
		if got := strings.Join(run.Environments, ","); got != want[run.Workflow] {
			t.Errorf("run %d (%s %q) -o json: environments %q, want %q", run.ID, run.Kind, run.Workflow, got, want[run.Workflow])
		}
	}
	r = phx(&seen, "", "runs", "--data", data)
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
		f := strings.Fields(line) // run, project, version or "workflow NAME", environments, ...
		wf, envs := "", f[3]
		if f[2] == "workflow" {
			wf, envs = f[3], f[4]
		}
		if envs != want[wf] {
			t.Errorf("phoenix runs: %q shows environments %q, want %q", line, envs, want[wf])
		}
	}
}

// TestInProcessApproveActsWithTheGivenToken: 'phoenix approve --token'
// with no server running started one in-process and dropped the token,
// acting as admin, so the approval of a second user was refused as the
// releaser's ("admin released run 1 and cannot approve it"), and would
// have been recorded as admin's had admin not released it. The token is
// whose approval it is, with or without a server.
func TestInProcessApproveActsWithTheGivenToken(t *testing.T) {
	data, dir := gatedProject(t)
	if code, _, errs := runStopped("release", "1.0.0", "--dir", dir, "--data", data); code != 1 {
		t.Fatalf("release: exit %d: %s", code, errs)
	}
	tok := userToken(t, data, "dana", "approver")
	var seen []string
	r := phx(&seen, "", "approve", "1", "--comment", "offline", "--token", tok, "--data", data)
	if r.code != 0 {
		t.Fatalf("approve as dana without a server: exit %d: %s", r.code, r.err)
	}
	a := startServer(t, data)
	var logs bytes.Buffer
	if err := a.Pipeline.Logs(context.Background(), 1, pipeline.LogOptions{Follow: true}, &logs); err != nil {
		t.Fatal(err)
	}
	if d, _ := a.Pipeline.Get(context.Background(), 1); d.Status != pipeline.Succeeded || !strings.Contains(logs.String(), "[phoenix] approved by dana\n") {
		t.Fatalf("run 1: %s %s\n%s", d.Status, d.Message, logs.String())
	}
}

// TestInProcessReleaseAtItsGateSaysHowToApprove: 'phoenix release' with
// no server running reached its approval gate and only pointed at
// 'phoenix approve' and the dashboard, which the releaser cannot use for
// their own run and which does not exist without a server: it seemed to
// hang. It says who can approve, from where, and what Ctrl-C does.
func TestInProcessReleaseAtItsGateSaysHowToApprove(t *testing.T) {
	data, dir := gatedProject(t)
	ctx, stop := context.WithTimeout(context.Background(), time.Minute) // without the note, it waits at the gate
	defer stop()
	errb := &stopOnText{text: "goes on with it\n", stop: stop}
	var out bytes.Buffer
	g := &Globals{Stdin: strings.NewReader(""), Stdout: &out, Stderr: errb}
	root := newRoot(g)
	root.SetArgs([]string{"release", "1.0.0", "--dir", dir, "--data", data})
	root.SetErr(errb)
	root.ExecuteContext(ctx) // stopped once the note is out
	want := "note: this release runs in this command's own server (no phoenix server holds " + data +
		"), so its approval comes from another shell: an approver other than you runs phoenix approve 1 --token THEIR_TOKEN --data " + data
	if !strings.Contains(errb.out.String(), want) || !strings.Contains(out.String(), gateMarker+"1,") {
		t.Fatalf("stderr %q\nstdout %q", errb.out.String(), out.String())
	}
}

// TestGateNoteFindsASplitMarker: the log reaches the CLI in pieces; the
// gate's line split across two writes is still seen, once.
func TestGateNoteFindsASplitMarker(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	notes := 0
	n := &gateNote{w: &out, note: func() { notes++ }}
	for _, p := range []string{"[phoenix] waiting; approve with phoe", "nix approve 3, or reject\n", "approve with phoenix approve 3\n"} {
		if _, err := n.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if notes != 1 || !strings.HasSuffix(out.String(), "approve with phoenix approve 3\n") {
		t.Fatalf("%d notes, out %q", notes, out.String())
	}
}
