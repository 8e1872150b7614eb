package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// stepYAML is a project whose one step runs script.
func stepYAML(script string) string {
	return fmt.Sprintf("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: s\n      steps: [{name: x, run: %q}]\n", script)
}

// addSubmodule adds the repository from as a submodule at path of the
// repository git runs in, as a developer does (file URLs allowed).
func addSubmodule(git func(args ...string) string, from, path string) {
	git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "--", from, path)
	git("commit", "-qm", "add "+path)
}

// TestReleaseChecksOutSubmodulesAtTheirCommits: a release of a
// repository with submodules (a theme, with its icons as a submodule of
// its own) built a checkout with their folders empty. Each is checked out
// at the commit the release's commit records for it, not the one the
// developer's copy has moved on to, from that copy, without writing into
// the developer's .git; a confined step's git works in each.
func TestReleaseChecksOutSubmodulesAtTheirCommits(t *testing.T) {
	f, _ := confinedFixture(t, nil)
	icons := t.TempDir()
	writeFiles(t, icons, map[string]string{"icons.svg": "icons one\n"})
	iconsHead := gitRepo(t, icons)("rev-parse", "HEAD")
	theme := t.TempDir()
	writeFiles(t, theme, map[string]string{"theme.css": "theme one\n"})
	themeGit := gitRepo(t, theme)
	addSubmodule(themeGit, icons, "icons")
	themeHead := themeGit("rev-parse", "HEAD")

	dir := f.project(stepYAML(`cat vendor/theme/theme.css vendor/theme/icons/icons.svg > "$PHOENIX_FILES/built"
git -C vendor/theme log -1 --format=%H > "$PHOENIX_FILES/heads"
git -C vendor/theme/icons log -1 --format=%H >> "$PHOENIX_FILES/heads"`))
	git := gitRepo(t, dir)
	addSubmodule(git, theme, "vendor/theme")
	git("-c", "protocol.file.allow=always", "submodule", "update", "--init", "--recursive")
	// The developer moves the theme on after committing: the release
	// builds the commit, with the theme it records.
	writeFiles(t, filepath.Join(dir, "vendor", "theme"), map[string]string{"theme.css": "theme two, not recorded\n"})
	gitRepoAt(t, filepath.Join(dir, "vendor", "theme"))("commit", "-qam", "two")
	before := testkit.ListTree(t, filepath.Join(dir, ".git"))

	d := f.wait(f.release(dir, "v1.0.0").ID)
	if d.Status != Succeeded || !d.Checkout {
		t.Fatalf("run %s (checkout %v): %s\n%s", d.Status, d.Checkout, d.Message, f.log(d.ID, ""))
	}
	files := filepath.Join(f.dir, "runs", itoa(d.ID), "files")
	if got := readFile(t, filepath.Join(files, "built")); got != "theme one\nicons one\n" {
		t.Errorf("the run built %q, not the submodules' recorded commits", got)
	}
	if got, want := readFile(t, filepath.Join(files, "heads")), themeHead+"\n"+iconsHead+"\n"; got != want {
		t.Errorf("git in the submodules answered %q, want %q", got, want)
	}
	if after := testkit.ListTree(t, filepath.Join(dir, ".git")); after != before {
		t.Errorf("the run changed the developer's .git:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestSubmoduleNotInTheRepositoryFailsTheCheckout: a submodule the
// developer never initialised (a clone without --recurse-submodules), or
// whose copy lacks the commit recorded, fails the run at its checkout,
// naming the submodule and the commit and saying what to run; the
// network is not tried.
func TestSubmoduleNotInTheRepositoryFailsTheCheckout(t *testing.T) {
	f := newFixture(t, nil)
	theme := t.TempDir()
	writeFiles(t, theme, map[string]string{"theme.css": "theme\n"})
	themeGit := gitRepo(t, theme)
	upstream := f.project(stepYAML("cat vendor/theme/theme.css"))
	addSubmodule(gitRepo(t, upstream), theme, "vendor/theme")

	dir := filepath.Join(f.dir, "clone")
	gitRepoAt(t, f.dir)("clone", "-q", upstream, dir)
	d := f.wait(f.release(dir, "v1.0.0").ID)
	want := fmt.Sprintf("submodule vendor/theme (commit %s) is not initialised", shortCommit(themeGit("rev-parse", "HEAD")))
	if d.Status != Failed || !strings.Contains(d.Message, want) || !strings.Contains(d.Message, "git submodule update --init --recursive") {
		t.Errorf("an uninitialised submodule: run %s: %s", d.Status, d.Message)
	}

	writeFiles(t, theme, map[string]string{"theme.css": "theme, newer\n"})
	themeGit("commit", "-qam", "newer")
	newer := themeGit("rev-parse", "HEAD")
	git := gitRepoAt(t, upstream)
	git("update-index", "--cacheinfo", "160000,"+newer+",vendor/theme")
	git("commit", "-qm", "newer theme")
	d = f.wait(f.release(upstream, "v1.0.1").ID)
	if want := "submodule vendor/theme: its commit " + shortCommit(newer) + " is not in the repository's copy"; d.Status != Failed || !strings.Contains(d.Message, want) {
		t.Errorf("a commit the copy lacks: run %s: %s", d.Status, d.Message)
	}
}

// TestReleaseOfALinkedWorktreeChecksOutItsSubmodules: in a linked
// worktree (git worktree add) the submodules' repositories are the
// worktree's own, in the main repository's .git/worktrees/NAME/modules;
// a release of the worktree's project checks them out from there. (Its
// steps are confined, but not the server's git: a linked worktree in a
// hidden folder is not seen as one.)
func TestReleaseOfALinkedWorktreeChecksOutItsSubmodules(t *testing.T) {
	if _, err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	f := newFixture(t, func(o *Options) { o.Hidden = []string{filepath.Join(t.TempDir(), "data")} })
	theme := t.TempDir()
	writeFiles(t, theme, map[string]string{"theme.css": "theme\n"})
	gitRepo(t, theme)
	main := f.project(stepYAML(`cat vendor/theme/theme.css > "$PHOENIX_FILES/built"; git -C vendor/theme log -1 --format=%s >> "$PHOENIX_FILES/built"`))
	addSubmodule(gitRepo(t, main), theme, "vendor/theme")
	// Only the worktree's copy of the theme is there to check out.
	if err := os.RemoveAll(filepath.Join(main, ".git", "modules")); err != nil {
		t.Fatal(err)
	}
	wt := filepath.Join(f.dir, "worktree")
	gitRepoAt(t, main)("worktree", "add", "-q", wt, "HEAD")
	git := gitRepoAt(t, wt)
	git("-c", "protocol.file.allow=always", "submodule", "update", "--init", "--recursive")
	if modules := git("rev-parse", "--path-format=absolute", "--git-path", "modules"); !strings.Contains(modules, "worktrees") {
		t.Fatalf("the worktree's modules are in %s", modules)
	}
	d := f.wait(f.release(wt, "v1.0.0").ID)
	if d.Status != Succeeded || !d.Checkout {
		t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
	if got := readFile(t, filepath.Join(f.dir, "runs", itoa(d.ID), "files", "built")); got != "theme\nfirst\n" {
		t.Errorf("built %q", got)
	}
}

// TestGitmodulesPaths: the submodules' names by path, as git config
// answers them; a name git would refuse (one climbing out of modules/)
// is an error naming the file.
func TestGitmodulesPaths(t *testing.T) {
	names, paths, err := gitmodulesPaths([]byte("submodule.theme.path\nvendor/theme\x00submodule.a.b.path\nlib/a.b\x00submodule.again.path\nvendor/theme\x00"), ".gitmodules")
	if err != nil || strings.Join(paths, ",") != "vendor/theme,lib/a.b" || names["vendor/theme"] != "theme" || names["lib/a.b"] != "a.b" {
		t.Errorf("got %v %v %v", names, paths, err)
	}
	for _, name := range []string{"../escape", `x\..\..`, "", ".", "a/./"} {
		_, _, err := gitmodulesPaths([]byte("submodule."+name+".path\nx\x00"), "apps/.gitmodules")
		if err == nil || !strings.Contains(err.Error(), "apps/.gitmodules: submodule name") {
			t.Errorf("name %q: %v", name, err)
		}
	}
}

// FuzzGitmodulesPaths: any answer is read without a panic, and every
// name it gives may be joined to modules/ without leaving it.
func FuzzGitmodulesPaths(f *testing.F) {
	f.Add([]byte("submodule.theme.path\nvendor/theme\x00"))
	f.Add([]byte("submodule...path\n\x00\x00\n"))
	f.Add([]byte("submodule../.path\nx\x00"))
	f.Fuzz(func(t *testing.T, out []byte) {
		names, _, err := gitmodulesPaths(out, ".gitmodules")
		for _, name := range names {
			if err != nil || !strings.HasPrefix(filepath.Join("/m", name), "/m/") {
				t.Errorf("name %q (%v)", name, err)
			}
		}
	})
}
