package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// TestStepsCannotReachTheServersFiles: a workflow step of a server on
// its defaults cannot read the data dir (state.db, the admin token) or a
// key file the server was given; with --step-sandbox off it can, as the
// server's user.
func TestStepsCannotReachTheServersFiles(t *testing.T) {
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
