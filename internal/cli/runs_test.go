package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/pipeline"
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
func TestLogsFollowEndsQuietlyWhenStopped(t *testing.T) {
	noMasterKey(t)
	data, dir := t.TempDir(), t.TempDir()
	yaml := "project: {name: shop}\nenvironments: {production: {protection: {approvals: 1}}}\npipeline:\n  stages:\n" +
		"    - {name: ship, environment: production, steps: [{name: deploy, run: \"true\"}]}\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: "1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var errb bytes.Buffer
	out := &stopOnWrite{stop: stop}
	g := &Globals{Stdin: strings.NewReader(""), Stdout: out, Stderr: &errb}
	root := newRoot(g)
	root.SetArgs([]string{"logs", strconv.FormatInt(run.ID, 10), "-f", "--data", data})
	root.SetOut(out)
	root.SetErr(&errb)
	err = root.ExecuteContext(ctx)
	if err != nil {
		printError(&errb, err)
	}
	if code := usererr.ExitCode(err); code != 0 || errb.Len() > 0 || !strings.Contains(out.out.String(), "waiting for 1 approval") {
		t.Fatalf("stopped follow: exit %d, stderr %q, stdout %q", code, errb.String(), out.out.String())
	}
}

// TestRunsRefusesAnUnknownStatus: 'phoenix runs --status bogus' is a usage
// error listing the statuses, before any server is asked (it printed an
// empty table).
func TestRunsRefusesAnUnknownStatus(t *testing.T) {
	out, errs, code := runVault(t, "", "runs", "--status", "bogus", "--data", t.TempDir())
	want := `error: --status "bogus": want one of queued, running, waiting, succeeded, failed, cancelled, interrupted`
	if code != 2 || out != "" || !strings.Contains(errs, want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and %s", code, out, errs, want)
	}
}
