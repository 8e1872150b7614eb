// Package executor runs pipeline steps as local child processes: each in a
// process group of its own, so a timeout or a cancel kills the step and
// everything it started (SIGTERM, then SIGKILL after a grace period), and
// leftovers are killed when the step ends; a Cmd with a Sandbox runs
// confined (internal/sandbox). Output (stdout and stderr,
// merged) goes through a MaskWriter, which hides secrets including their
// base64 and URL-encoded forms, into a LogFile capped in size, so a step
// printing a gigabyte neither fills the disk nor the server's memory.
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// DefaultGrace is the time between SIGTERM and SIGKILL.
const DefaultGrace = 5 * time.Second

// Cmd is one process to run.
type Cmd struct {
	// Script is run with /bin/sh -ec (stop at the first failing command);
	// Args, when set instead, is the argv to run directly.
	Script  string
	Args    []string
	Dir     string
	Env     []string      // the complete environment
	Timeout time.Duration // 0: none besides ctx
	Grace   time.Duration // SIGTERM to SIGKILL (default DefaultGrace)
	Output  io.Writer     // stdout and stderr, merged; nil discards
	// Sandbox, when set, confines the process and all it starts
	// (internal/sandbox); it is not started if it cannot be.
	Sandbox *sandbox.Policy
}

// Result is how a process ended.
type Result struct {
	ExitCode  int
	TimedOut  bool
	Cancelled bool
	Duration  time.Duration
}

// ErrTimeout and ErrCancelled wrap the errors of killed steps.
var (
	ErrTimeout   = errors.New("timed out")
	ErrCancelled = errors.New("cancelled")
)

// Run starts c, waits for it and returns how it ended. The error is nil
// only for exit status 0; it wraps ErrTimeout or ErrCancelled when the
// process group was killed.
func Run(ctx context.Context, c Cmd) (Result, error) {
	start := time.Now()
	argv := c.Args
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-ec", c.Script}
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	out := c.Output
	if out == nil {
		out = io.Discard
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{ExitCode: -1}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.Dir, c.Env, pw, pw
	setGroup(cmd)
	if err := startIn(cmd, c.Sandbox); err != nil {
		pr.Close()
		pw.Close()
		return Result{ExitCode: -1}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	pw.Close()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(out, pr)
	}()
	res, err := wait(ctx, cmd, c)
	killGroup(cmd, true) // whatever the step left running goes with it
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // a process escaped the group and holds the pipe
	}
	pr.Close()
	<-copied
	res.Duration = time.Since(start)
	return res, err
}

// startIn starts cmd, confined by p when set.
func startIn(cmd *exec.Cmd, p *sandbox.Policy) error {
	if p == nil {
		return cmd.Start()
	}
	return sandbox.Start(cmd, *p)
}

func wait(ctx context.Context, cmd *exec.Cmd, c Cmd) (Result, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timeout <-chan time.Time
	if c.Timeout > 0 {
		t := time.NewTimer(c.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var why error
	select {
	case err := <-done:
		return exitResult(err)
	case <-ctx.Done():
		why = ErrCancelled
	case <-timeout:
		why = fmt.Errorf("%w after %s", ErrTimeout, c.Timeout)
	}
	killGroup(cmd, false)
	grace := time.NewTimer(c.Grace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		killGroup(cmd, true)
		<-done
	}
	res := Result{ExitCode: -1, TimedOut: errors.Is(why, ErrTimeout), Cancelled: errors.Is(why, ErrCancelled)}
	return res, why
}

func exitResult(err error) (Result, error) {
	if err == nil {
		return Result{}, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			return Result{ExitCode: code}, fmt.Errorf("killed by a signal (%v)", ee.ProcessState)
		}
		return Result{ExitCode: code}, fmt.Errorf("exit status %d", code)
	}
	return Result{ExitCode: -1}, err
}
