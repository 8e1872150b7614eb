package cli

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// releaseFromGit returns the tag at HEAD of the repository holding dir
// (git describe --tags --exact-match), or "" when there is none, the
// tracked files differ from it, or git is missing: 'phoenix deploy dist'
// from a checkout of v1.4.2 records release v1.4.2 without --release, and
// never names a tag for something that is not exactly it. dir is the
// folder deployed, not phoenix.yaml's: a folder outside the checkout
// (built elsewhere, another release's) is no proof of its tag.
func releaseFromGit(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "describe", "--tags", "--exact-match", "HEAD").Output()
	if err != nil {
		return ""
	}
	tag := strings.TrimSpace(string(out))
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil || len(strings.TrimSpace(string(st))) > 0 {
		return ""
	}
	return tag
}
