package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployNamesTheReleaseFromTheGitTag: 'phoenix deploy dist' from a
// clean checkout of tag v2.3.4 whose dist/ is committed records release
// v2.3.4; with a tracked file changed since the tag it records none, nor
// for a folder outside the checkout, an ignored build folder inside it,
// or a folder holding a file the tag does not; --release always wins.
func TestDeployNamesTheReleaseFromTheGitTag(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo, data := t.TempDir(), t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, body string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755)
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("phoenix.yaml", "project: {name: shop}\nenvironments:\n  staging: {}\n")
	write("dist/index.html", "<h1>v2.3.4</h1>")
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "first")
	git("tag", "v2.3.4")
	cfg := filepath.Join(repo, "phoenix.yaml")
	deployDir := func(dir string, extra ...string) string {
		t.Helper()
		mustRun(t, "", append([]string{"deploy", dir, "--env", "staging", "--data", data, "-c", cfg}, extra...)...)
		var ds []struct {
			Release string `json:"release"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, "", "deployments", "--env", "staging", "--data", data, "-c", cfg, "-o", "json")), &ds); err != nil || len(ds) == 0 {
			t.Fatalf("deployments: %v", err)
		}
		return ds[0].Release
	}
	deploy := func(extra ...string) string { t.Helper(); return deployDir(filepath.Join(repo, "dist"), extra...) }
	if got := deploy(); got != "v2.3.4" {
		t.Fatalf("release of a deploy from tag v2.3.4: %q", got)
	}
	if got := deploy("--release", "hotfix-1"); got != "hotfix-1" {
		t.Fatalf("--release: %q", got)
	}
	// A folder outside the checkout is not the tag's, whatever phoenix.yaml's checkout is at.
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "index.html"), []byte("<h1>built elsewhere</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := deployDir(elsewhere); got != "" {
		t.Fatalf("release of a folder outside the tagged checkout: %q, want none", got)
	}
	// A build's output the tag does not hold, however clean the checkout:
	// an ignored folder (dist/ in .gitignore), an untracked file beside
	// the tag's.
	write("out/index.html", "<h1>built on this machine</h1>")
	write(".git/info/exclude", "out/\n")
	if got := deployDir(filepath.Join(repo, "out")); got != "" {
		t.Fatalf("release of an ignored build folder at tag v2.3.4: %q, want none", got)
	}
	write("dist/extra.js", "planted")
	if got := deploy(); got != "" {
		t.Fatalf("release of the tag's folder with an untracked file: %q, want none", got)
	}
	os.Remove(filepath.Join(repo, "dist/extra.js"))
	write("dist/index.html", "<h1>changed since the tag</h1>")
	if got := deploy(); got != "" {
		t.Fatalf("release of a deploy with tracked changes since the tag: %q, want none", got)
	}
}

// TestReleaseWarnsWhenHEADIsNotTheTag: phoenix release v0.3.0 built HEAD
// with no tag v0.3.0 anywhere, and a tree with uncommitted changes, without
// a word (the run's commit said +dirty, in JSON only). It warns of both
// before the release, saying that the changes are not built (the release
// builds a clean checkout of HEAD), or are with --in-place; a checkout at
// the tag, clean, gets no warning, and neither does a folder outside git.
func TestReleaseWarnsWhenHEADIsNotTheTag(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "app.js"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "first")
	git("tag", "v1.0.0")
	ctx := context.Background()
	for _, v := range []string{"v1.0.0", "1.0.0"} {
		if w := releaseGitWarnings(ctx, repo, v, "v", false); len(w) != 0 {
			t.Errorf("%s at its tag: %q", v, w)
		}
	}
	w := releaseGitWarnings(ctx, repo, "v1.1.0", "v", false)
	if len(w) != 1 || !strings.Contains(w[0], "carries no tag of v1.1.0: the release builds HEAD as it is (tag it first: git tag v1.1.0)") {
		t.Errorf("untagged: %q", w)
	}
	if err := os.WriteFile(filepath.Join(repo, "app.js"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	head, _ := gitIn(ctx, repo, "rev-parse", "--short", "HEAD")
	w = releaseGitWarnings(ctx, repo, "v1.0.0", "v", false)
	if len(w) != 1 || w[0] != repo+" has uncommitted changes: they are not built; the release builds commit "+head+" only, in a clean checkout (--in-place builds the folder as it is)" {
		t.Errorf("dirty: %q", w)
	}
	w = releaseGitWarnings(ctx, repo, "v1.0.0", "v", true)
	if len(w) != 1 || w[0] != repo+" has uncommitted changes: the release builds them (--in-place) and records commit "+head+"+dirty" {
		t.Errorf("dirty, in place: %q", w)
	}
	// An edit of phoenix.yaml not committed: the plan is made from it,
	// the steps read the commit's settings.
	if err := os.WriteFile(filepath.Join(repo, "phoenix.yaml"), []byte("project: {name: shop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "phoenix.yaml")
	w = releaseGitWarnings(ctx, repo, "v1.0.0", "v", false)
	if len(w) != 2 || !strings.HasPrefix(w[1], "phoenix.yaml has uncommitted changes: the run's steps and stages are planned from them, but its steps read the settings of commit "+head) {
		t.Errorf("phoenix.yaml changed: %q", w)
	}
	if w := releaseGitWarnings(ctx, t.TempDir(), "v1.1.0", "v", false); len(w) != 0 {
		t.Errorf("outside git: %q", w)
	}
}
