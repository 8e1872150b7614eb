package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// A commit with a .gitmodules records, for each of its submodules (a
// shared theme, a design system), the commit of the submodule's own
// repository it uses (a gitlink). The run's checkout gets each submodule
// at that commit, and their submodules in turn, from the developer's own
// copies: the repositories `git submodule update --init` made in
// <gitdir>/modules/<name>. Never from the network: the server has none of
// the developer's credentials, and the copy there may have moved on. A
// submodule the developer never initialised, or whose copy lacks the
// commit, fails the checkout, saying what to run.
//
// Each is cloned here as the top folder is (git clone --shared: its
// objects borrowed, nothing written into the developer's .git), its git
// dir where git puts a submodule's (<checkout>/.git/modules/<name>), and
// its commit checked out. Not by `git submodule update`: it clones from
// each submodule's URL, which only a nested submodule's parent, once
// checked out, could be made to point at a local copy; it then needs
// protocol.file.allow, and it copies (or hard links) a local repository's
// objects, where the top folder borrows them.

// tree is a work tree of the run's checkout: the top folder or a
// submodule's.
type tree struct {
	work    string // its folder
	gitDir  string // its git dir, where its submodules' go (modules/<name>)
	modules string // the developer's folder of its submodules' repositories
	at      string // its path in the top folder, "" for the top folder itself
}

// submodule is a submodule a tree's commit records: its name (its
// repository's folder under modules/), its path in the tree, the commit
// of it the tree's commit uses and the developer's copy of its repository.
type submodule struct{ name, path, commit, copy string }

// checkoutSubmodules checks out the submodules of t's commit, and theirs.
func (e *execution) checkoutSubmodules(ctx context.Context, reach sandbox.Policy, t tree) error {
	subs, err := e.submodulesOf(ctx, reach, t)
	if err != nil {
		return err
	}
	for _, sm := range subs {
		sub := tree{work: filepath.Join(t.work, filepath.FromSlash(sm.path)),
			gitDir:  filepath.Join(t.gitDir, "modules", filepath.FromSlash(sm.name)),
			modules: filepath.Join(sm.copy, "modules"),
			at:      path.Join(t.at, sm.path)}
		if err := e.checkoutSubmodule(ctx, reach, t, sm, sub); err != nil {
			return err
		}
		if err := e.checkoutSubmodules(ctx, reach, sub); err != nil {
			return err
		}
	}
	return nil
}

// checkoutSubmodule clones sm of parent from the developer's copy into
// sub and checks out its commit there; the parent's config names the
// copy as its URL, as `git submodule init` would the one of .gitmodules,
// so the steps' git sees it initialised.
func (e *execution) checkoutSubmodule(ctx context.Context, reach sandbox.Policy, parent tree, sm submodule, sub tree) error {
	if err := e.hasSubmodule(ctx, reach, sm, sub); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(sub.gitDir), 0o700); err != nil {
		return err
	}
	_, err := e.s.gitWriting(ctx, parent.work, reach, append(noHooks(), "clone", "--quiet", "--shared", "--no-checkout",
		"--separate-git-dir="+sub.gitDir, "--", sm.copy, sub.work)...)
	if err != nil {
		return fmt.Errorf("git clone of submodule %s: %w", sub.at, err)
	}
	if _, err := e.s.gitWriting(ctx, sub.work, reach, append(noHooks(), "checkout", "--quiet", "--detach", sm.commit)...); err != nil {
		return fmt.Errorf("git checkout of submodule %s: %w", sub.at, err)
	}
	if _, err := e.s.gitWriting(ctx, parent.work, reach, "config", "submodule."+sm.name+".url", sm.copy); err != nil {
		return fmt.Errorf("submodule %s: %w", sub.at, err)
	}
	return nil
}

// hasSubmodule checks that the developer's copy of sm holds its commit;
// if not, the error says how to get it there.
func (e *execution) hasSubmodule(ctx context.Context, reach sandbox.Policy, sm submodule, sub tree) error {
	hint := fmt.Sprintf("run git submodule update --init --recursive in %s, or release with --in-place to build the folder as it is", e.run.Dir)
	if _, err := os.Stat(sm.copy); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("submodule %s (commit %s) is not initialised in the repository: a run checks out submodules from the repository's own copies of them (%s), never from the network; %s (a submodule whose .git is a folder in it: git submodule absorbgitdirs)",
			sub.at, shortCommit(sm.commit), sm.copy, hint)
	}
	// --git-dir: the copy's core.worktree names the developer's folder of
	// the submodule, which git may not reach.
	if _, err := e.s.gitWriting(ctx, sub.work, reach, "--git-dir="+sm.copy, "cat-file", "-e", sm.commit+"^{commit}"); err != nil {
		return fmt.Errorf("submodule %s: its commit %s is not in the repository's copy of it (%s), behind the commit that records it; %s",
			sub.at, shortCommit(sm.commit), sm.copy, hint)
	}
	return nil
}

// submodulesOf lists the submodules t's commit records: the gitlinks its
// .gitmodules names. A gitlink it does not name (a repository added by
// mistake) is left an empty folder, as git leaves it.
func (e *execution) submodulesOf(ctx context.Context, reach sandbox.Policy, t tree) ([]submodule, error) {
	if fi, err := os.Lstat(filepath.Join(t.work, ".gitmodules")); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	// The commit's .gitmodules, as git reads it (no include of other files).
	out, err := e.s.gitWriting(ctx, t.work, reach, "config", "--blob", "HEAD:.gitmodules", "-z", "--get-regexp", `^submodule\..*\.path$`)
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil, nil // no submodule paths in it
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(t.at, ".gitmodules"), err)
	}
	names, paths, err := gitmodulesPaths(out, path.Join(t.at, ".gitmodules"))
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	out, err = e.s.gitWriting(ctx, t.work, reach, append([]string{"--literal-pathspecs", "ls-files", "--stage", "-z", "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	var subs []submodule
	for _, entry := range strings.Split(string(out), "\x00") {
		// "160000 <commit> 0\t<path>": a gitlink.
		info, p, _ := strings.Cut(entry, "\t")
		if f := strings.Fields(info); len(f) == 3 && f[0] == "160000" && names[p] != "" {
			subs = append(subs, submodule{name: names[p], path: p, commit: f[1], copy: filepath.Join(t.modules, filepath.FromSlash(names[p]))})
		}
	}
	return subs, nil
}

// gitmodulesPaths reads git config's answer (-z --get-regexp) of the
// submodules' paths in the .gitmodules file: each path's submodule name
// (the first, for a path named twice), and the paths in order.
func gitmodulesPaths(out []byte, file string) (map[string]string, []string, error) {
	names := map[string]string{}
	var paths []string
	for _, entry := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		key, p, _ := strings.Cut(entry, "\n")
		name := strings.TrimSuffix(strings.TrimPrefix(key, "submodule."), ".path")
		if !validSubmoduleName(name) {
			return nil, nil, fmt.Errorf("%s: submodule name %q is not one git accepts", file, name)
		}
		if _, dup := names[p]; !dup && p != "" {
			names[p] = name
			paths = append(paths, p)
		}
	}
	return names, paths, nil
}

// validSubmoduleName reports whether git would use name for a
// submodule's folder under modules/: not empty, no ".." in it; nor "."
// (modules/. would be the folder of them all), which git does not refuse.
func validSubmoduleName(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." || part == "." {
			return false
		}
	}
	return true
}
