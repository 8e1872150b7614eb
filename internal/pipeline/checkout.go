package pipeline

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A run whose steps build (spec.Plan.BuildsSource) from a project folder
// in a git repository works in a clean checkout of its commit made in its
// own folder (<data>/runs/ID/src), not in the folder itself: uncommitted
// changes are not built, the recorded commit is exactly what was built,
// and a cancelled install leaves nothing half-done in the developer's
// folder. The checkout is a clone sharing the repository's objects
// (git clone --shared: nothing is copied but the refs, nothing is written
// into the developer's .git), checked out at the commit; the steps work in
// the project's sub-folder of it (a monorepo's app). Run.Checkout says so;
// a run without it (--in-place, a folder outside git, a promotion) works in
// the folder as it is.

// sourceOf decides where a run of the project in dir, with plan, works:
// it returns the commit to record and whether the run builds it in a
// checkout. commit is the one asked for ("": HEAD); inPlace asks for the
// folder as it is. A commit asked for that the repository does not hold,
// or one without the project's phoenix.yaml, is a usage error: the run
// could not build it.
func (s *Service) sourceOf(ctx context.Context, dir, commit string, inPlace bool, plan *spec.Plan) (string, bool, error) {
	if inPlace || !plan.BuildsSource() {
		return firstNonEmpty(commit, s.gitHead(ctx, dir)), false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	prefix, err := s.git(ctx, dir, "rev-parse", "--show-prefix")
	if err != nil {
		return commit, false, nil // no git repository (or no git): the folder as it is
	}
	out, err := s.git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", firstNonEmpty(commit, "HEAD")+"^{commit}")
	if err != nil && commit == "" {
		return "", false, nil // a repository with no commit yet
	}
	if err != nil {
		return "", false, usererr.New(usererr.Usage, "commit %q is not in the git repository of %s", commit, dir).
			WithHint("fetch it there first (git fetch); or build the folder as it is, recording the commit as given: phoenix release --in-place")
	}
	sha := strings.TrimSpace(string(out))
	yaml := strings.TrimSpace(string(prefix)) + "phoenix.yaml"
	if _, err := s.git(ctx, dir, "cat-file", "-e", sha+":"+yaml); err != nil {
		return "", false, usererr.New(usererr.Usage, "commit %s has no %s: a release builds a clean checkout of its commit, without the files not committed", shortCommit(sha), yaml).
			WithHint("commit the project first, or release with --in-place to build the folder as it is")
	}
	if commit == "" && s.dirty(ctx, dir) {
		s.log.Info("pipeline: the project folder has uncommitted changes; the run builds its commit without them",
			"dir", dir, "commit", sha)
	}
	return sha, true, nil
}

// shortCommit is the first 12 characters of a commit's name.
func shortCommit(sha string) string { return sha[:min(12, len(sha))] }

// srcDir is the run's checkout: the repository's top folder.
func (e *execution) srcDir() string { return filepath.Join(e.s.runDir(e.run.ID), "src") }

// checkout makes the run's checkout of its commit, unless a resumed run
// left it there, and returns the project's folder in it.
func (e *execution) checkout(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var err error
	if e.repo, err = e.repoOf(ctx); err != nil {
		return "", fmt.Errorf("the project folder %s is no longer in a git repository: %w", e.run.Dir, err)
	}
	src := e.srcDir()
	dir := filepath.Join(src, filepath.FromSlash(e.repo.prefix))
	if _, err := os.Stat(filepath.Join(src, ".git")); err == nil {
		return dir, nil // a resumed run's: the steps before its gate worked there
	}
	if err := e.clone(ctx, src); err != nil {
		removeTree(src)
		return "", fmt.Errorf("checkout of commit %s of %s: %w", e.run.Commit, e.run.Dir, err)
	}
	return dir, nil
}

// devRepo is where the repository holding a project folder keeps what a
// run's checkout of it is made from and borrows, all absolute with links
// followed.
type devRepo struct {
	prefix  string // the project folder's path in the work tree, slash-separated ("" at the top, "apps/web/")
	root    string // the top folder of its work tree
	common  string // its git dir, shared by its linked worktrees: objects, refs
	modules string // its submodules' repositories (<gitdir>/modules: a linked worktree has its own)
}

// repoOf asks git, in one call, where the project folder is in its
// repository and where that repository is.
func (e *execution) repoOf(ctx context.Context) (devRepo, error) {
	out, err := e.s.git(ctx, e.run.Dir, "rev-parse", "--show-prefix", "--path-format=absolute", "--show-toplevel", "--git-common-dir", "--git-path", "modules")
	if err != nil {
		return devRepo{}, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") // the prefix's line is empty at the top
	if len(lines) != 4 {
		return devRepo{}, fmt.Errorf("git rev-parse answered %q", out)
	}
	paths := lines[1:]
	for i, p := range paths {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			paths[i] = real
		}
	}
	return devRepo{prefix: lines[0], root: paths[0], common: paths[1], modules: paths[2]}, nil
}

// clone clones the repository holding the project folder into src,
// sharing its objects, checks out the run's commit there, and its
// submodules (submodules.go). Hooks are off: only git's own work runs.
func (e *execution) clone(ctx context.Context, src string) error {
	if err := os.MkdirAll(src, 0o700); err != nil {
		return err
	}
	// git reads the repository (its .git, and the folder a linked
	// worktree's .git file names, which holds its modules folder too),
	// nothing else of the developer's.
	root := e.repo.root
	reach := sandbox.Policy{Open: []string{src}, ReadOnly: []string{filepath.Join(root, ".git")}}
	for _, p := range []string{e.repo.common, e.repo.modules} {
		if !sandbox.Overlaps(p, reach.ReadOnly) {
			reach.ReadOnly = append(reach.ReadOnly, p)
		}
	}
	if _, err := e.s.gitWriting(ctx, root, reach, append(noHooks(), "clone", "--quiet", "--shared", "--no-checkout", "--", root, src)...); err != nil {
		return fmt.Errorf("git clone: %w", err)
	}
	if _, err := e.s.gitWriting(ctx, src, reach, append(noHooks(), "checkout", "--quiet", "--detach", e.run.Commit)...); err != nil {
		return fmt.Errorf("git checkout: %w", err)
	}
	return e.checkoutSubmodules(ctx, reach, tree{work: src, gitDir: filepath.Join(src, ".git"), modules: e.repo.modules})
}

// noHooks are the options of git's commands making a checkout: no hook
// of the developer's repository (nor any other) runs.
func noHooks() []string {
	return []string{"-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false"}
}

// alternates are the object folders the run's checkout, and each of its
// submodules, borrow from the developer's repository (git clone
// --shared): its steps' git reads them. The steps may change the
// checkout's alternates files, so only the developer's object folders
// named there count: a step naming another folder (the data dir) in one
// would give the next step that folder to read.
func (e *execution) alternates() []string {
	var out []string
	add := func(path string) {
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			return // a step's FIFO there would hold the server reading it
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = filepath.Clean(strings.TrimSpace(l)); filepath.IsAbs(l) && e.repo.borrows(l) && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	git := filepath.Join(e.srcDir(), ".git")
	add(filepath.Join(git, "objects", "info", "alternates"))
	filepath.WalkDir(filepath.Join(git, "modules"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, string(filepath.Separator)+filepath.Join("objects", "info", "alternates")) {
			add(p)
		}
		return nil
	})
	return out
}

// borrows reports whether path is an object folder of the repository or
// of one of its submodules' repositories.
func (r devRepo) borrows(path string) bool {
	if r.common == "" {
		return false
	}
	return path == filepath.Join(r.common, "objects") ||
		filepath.Base(path) == "objects" && strings.HasPrefix(path, r.modules+string(filepath.Separator))
}

// removeTree removes path and everything in it, making read-only folders
// writable first (a step's module cache): os.RemoveAll alone stops at them.
func removeTree(path string) error {
	if os.RemoveAll(path) == nil {
		return nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}
