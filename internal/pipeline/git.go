package pipeline

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// gitHead returns the commit checked out in dir, "" when it is not a
// repository (or git is missing). A dirty tree gets a "+dirty" suffix.
func (s *Service) gitHead(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(out))
	st, err := s.git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		head += "+dirty"
	}
	return head
}

// git runs git in the project folder dir and returns its standard
// output. A checkout's own configuration can make git run commands (a
// filter driver's clean command during status, core.fsmonitor), and a
// confined step may have written it there: so git runs confined as the
// steps are, with no monitor hook and no optional locks, or a step could
// leave a command for the server to run with its own rights.
func (s *Service) git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--no-optional-locks", "-c", "core.fsmonitor=false", "-C", dir}, args...)...)
	cmd.Env = s.opts.Env // the steps' environment: none of the server's credentials
	if s.homeHidden() {
		// git stops at a ~/.gitconfig it may not read: a service's home is its data dir.
		cmd.Env = append(slices.Clip(cmd.Env), "GIT_CONFIG_GLOBAL=/dev/null")
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if !s.confined() {
		err := cmd.Run()
		return out.Bytes(), err
	}
	if err := sandbox.Start(cmd, sandbox.Policy{Hidden: s.opts.Hidden, Open: []string{dir}}); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return out.Bytes(), err
}
