package cli

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// releaseFromGit returns the tag at HEAD of the repository holding dir
// (git describe --tags --exact-match), or "" when there is none, the
// tracked files differ from it, dir holds a file the tag does not (an
// untracked or ignored one: a build's output, dist/ in .gitignore), or
// git is missing: 'phoenix deploy site' from a checkout of v1.4.2 whose
// site/ is committed records release v1.4.2 without --release, and never
// names a tag for something that is not exactly it. dir is the folder
// deployed, not phoenix.yaml's: a folder outside the checkout (built
// elsewhere, another release's) is no proof of its tag, nor is one built
// from it on this machine.
func releaseFromGit(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tag, err := gitIn(ctx, dir, "describe", "--tags", "--exact-match", "HEAD")
	if err != nil {
		return ""
	}
	if st, err := gitIn(ctx, dir, "status", "--porcelain", "--untracked-files=no"); err != nil || st != "" {
		return ""
	}
	if st, err := gitIn(ctx, dir, "status", "--porcelain", "--untracked-files=all", "--ignored=matching", "--", "."); err != nil || st != "" {
		return ""
	}
	return tag
}

// gitIn runs git in dir and returns its output, trimmed.
func gitIn(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
	return strings.TrimSpace(string(out)), err
}

// releaseGitWarnings says what a release of version from the git checkout
// dir builds when that is not the tag it names: HEAD carries no tag of
// that version, or the tree holds uncommitted changes, which the release
// leaves out (it builds a clean checkout of HEAD) or, inPlace, builds
// (the run records the commit with +dirty). Nothing when dir is not a git
// checkout or git is missing: a folder of its own is released as it is.
func releaseGitWarnings(ctx context.Context, dir, version, prefix string, inPlace bool) []string {
	want, err := action.ParseVersion(version, prefix)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	head, err := gitIn(ctx, dir, "rev-parse", "--short", "HEAD")
	if err != nil {
		return nil
	}
	var warns []string
	tags, _ := gitIn(ctx, dir, "tag", "--points-at", "HEAD")
	if !tagsHold(tags, want, prefix) {
		warns = append(warns, fmt.Sprintf("HEAD (%s) carries no tag of %s: the release builds HEAD as it is (tag it first: git tag %s)", head, version, version))
	}
	st, err := gitIn(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	switch {
	case err != nil || st == "":
	case inPlace:
		warns = append(warns, fmt.Sprintf("%s has uncommitted changes: the release builds them (--in-place) and records commit %s+dirty", dir, head))
	default:
		warns = append(warns, fmt.Sprintf("%s has uncommitted changes: they are not built; the release builds commit %s only, in a clean checkout (--in-place builds the folder as it is)", dir, head))
		if yaml, err := gitIn(ctx, dir, "status", "--porcelain", "--untracked-files=no", "--", "phoenix.yaml"); err == nil && yaml != "" {
			warns = append(warns, fmt.Sprintf("phoenix.yaml has uncommitted changes: the run's steps and stages are planned from them, but its steps read the settings of commit %s's phoenix.yaml (commit it first)", head))
		}
	}
	return warns
}

// tagsHold reports whether one of the tags (one per line) is the version
// want.
func tagsHold(tags string, want *semver.Version, prefix string) bool {
	for _, t := range strings.Fields(tags) {
		if v, err := action.ParseVersion(t, prefix); err == nil && v.Equal(want) {
			return true
		}
	}
	return false
}
