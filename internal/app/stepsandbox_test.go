package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestStepsCannotReachTheServersFiles: a workflow step of a server on
// its defaults cannot read the data dir (state.db, the admin token) or a
// key file the server was given; with --step-sandbox off it can, as the
// server's user.
func TestStepsCannotReachTheServersFiles(t *testing.T) {
	t.Parallel()
	if _, err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(keyFile, []byte("a master key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode string
		want string
	}{{"", pipeline.Succeeded}, {SandboxOff, pipeline.Failed}} {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			data := t.TempDir()
			a := startOpts(t, Options{DataDir: data, StepSandbox: tt.mode, StepHidden: []string{keyFile}})
			reads := "cat " + keyFile + " || cat " + filepath.Join(data, "admin.token") + " || cat " + filepath.Join(data, "state.db")
			dir, _ := workflowDir(t, "if "+reads+"; then exit 1; fi >/dev/null 2>&1")
			r, err := a.Pipeline.StartWorkflow(context.Background(), pipeline.WorkflowRequest{Dir: dir, Workflow: "count", Actor: "t", Trigger: "manual"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Pipeline.Logs(context.Background(), r.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
				t.Fatal(err)
			}
			if got := runStatus(t, a, r.ID); got != tt.want {
				t.Fatalf("run %s, want %s", got, tt.want)
			}
		})
	}
}

// TestStepSandboxOnAKernelWithoutLandlock: where steps cannot be
// confined (a kernel without Landlock, stood in here), "on" refuses to
// start, naming the flag and the fix, and "auto" starts and says in the
// log that steps are not confined.
func TestStepSandboxOnAKernelWithoutLandlock(t *testing.T) {
	old := sandboxAvailable
	sandboxAvailable = func() (int, error) {
		return 0, fmt.Errorf("%w: this kernel has no Landlock (stood in by the test)", sandbox.ErrUnsupported)
	}
	t.Cleanup(func() { sandboxAvailable = old })
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", StepSandbox: SandboxOn,
		Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		if err = a.Start(context.Background()); err == nil {
			a.Stop(context.Background())
			t.Fatal("started with --step-sandbox on where steps cannot be confined")
		}
	}
	if !strings.Contains(err.Error(), "--step-sandbox on: ") || !strings.Contains(usererr.HintOf(err), "Landlock") ||
		usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("refusal: %v (hint %q)", err, usererr.HintOf(err))
	}
	var logs bytes.Buffer
	a = startOpts(t, Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if a.Pipeline == nil || !strings.Contains(logs.String(), "pipeline steps are not confined") {
		t.Fatalf("auto: log %s", logs.String())
	}
}
