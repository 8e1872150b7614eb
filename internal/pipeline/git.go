package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// gitHead returns the commit checked out in dir, "" when it is not a
// repository (or git is missing). A dirty tree gets a "+dirty" suffix:
// what a run building dir as it is (in place) records.
func (s *Service) gitHead(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(out))
	if s.dirty(ctx, dir) {
		head += "+dirty"
	}
	return head
}

// dirty reports whether the tracked files of the checkout holding dir
// differ from its HEAD.
func (s *Service) dirty(ctx context.Context, dir string) bool {
	st, err := s.git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	return err == nil && len(bytes.TrimSpace(st)) > 0
}

// git runs git in the project folder dir and returns its standard
// output. A checkout's own configuration can make git run commands (a
// filter driver's clean command during status, core.fsmonitor), and a
// confined step may have written it there: so git runs confined as the
// steps are, with no monitor hook and no optional locks, or a step could
// leave a command for the server to run with its own rights.
func (s *Service) git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return s.gitWriting(ctx, dir, sandbox.Policy{Open: []string{dir}}, args...)
}

// gitWriting runs git in dir as git does, confined to reach of the hidden
// paths only those reach opens (a run's checkout, inside the data dir).
// Its error holds what git said on its standard error.
func (s *Service) gitWriting(ctx context.Context, dir string, reach sandbox.Policy, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--no-optional-locks", "-c", "core.fsmonitor=false", "-C", dir}, args...)...)
	cmd.Env = s.opts.Env // the steps' environment: none of the server's credentials
	if s.homeHidden() {
		// git stops at a ~/.gitconfig it may not read: a service's home is its data dir.
		cmd.Env = append(slices.Clip(cmd.Env), "GIT_CONFIG_GLOBAL=/dev/null")
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	var err error
	if !s.confined() {
		err = cmd.Run()
	} else if err = sandbox.Start(cmd, sandbox.Policy{Hidden: s.opts.Hidden, Open: reach.Open, ReadOnly: reach.ReadOnly}); err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	return out.Bytes(), nil
}
