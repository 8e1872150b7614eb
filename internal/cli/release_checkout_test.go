package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestReleaseOfADirtyTreeBuildsTheCommit: phoenix release from a git
// checkout with an edit not committed built the edit, in the folder
// itself (its dist/ and node_modules), recording <commit>+dirty. It now
// says the edit is not built, builds the commit in the run's own
// checkout and records it exactly; retry builds that commit again; and
// --in-place builds the folder as it is, as before.
func TestReleaseOfADirtyTreeBuildsTheCommit(t *testing.T) {
	dir, data := releaseProject(t, "project: {name: shop}\nenvironments: {staging: {}}\npipeline:\n  stages:\n    - name: main\n      steps:\n"+
		"        - {name: build, run: 'mkdir -p dist node_modules && cp app.txt dist/ && echo \"built: $(cat app.txt)\"'}\n")
	git := repoGit(t, dir)
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("committed\n"), 0o644)
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "first")
	head := git("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("edited\n"), 0o644)

	var seen []string
	r := phx(&seen, "", "release", "v1.0.0", "--dir", dir, "--data", data)
	if r.code != 0 || !strings.Contains(r.out, "built: committed") || strings.Contains(r.out, "built: edited") {
		t.Fatalf("release: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if want := "warning: " + dir + " has uncommitted changes: they are not built; the release builds commit " + head[:7]; !strings.Contains(r.err, want) {
		t.Errorf("release does not say the edit is not built (%s):\n%s", want, r.err)
	}
	for _, name := range []string{"dist", "node_modules"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("the release wrote %s into the folder: %v", name, err)
		}
	}
	runJSON := func(args ...string) pipeline.RunDetail {
		t.Helper()
		r := phx(&seen, "", append(args, "--data", data, "-o", "json")...)
		var d pipeline.RunDetail
		if err := json.Unmarshal([]byte(r.out), &d); err != nil || r.code != 0 {
			t.Fatalf("%v: exit %d %v\n%s%s", args, r.code, err, r.out, r.err)
		}
		return d
	}
	if d := runJSON("retry", "1"); d.Commit != head || !d.Checkout {
		t.Errorf("retry at %q (checkout %v), want %s in a checkout", d.Commit, d.Checkout, head)
	}
	if d := runJSON("release", "v1.0.1", "--in-place", "--dir", dir); d.Commit != head+"+dirty" || d.Checkout {
		t.Errorf("--in-place at %q (checkout %v), want %s+dirty in place", d.Commit, d.Checkout, head)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "dist", "app.txt")); err != nil || string(b) != "edited\n" {
		t.Errorf("--in-place did not build the folder as it is: %q %v", b, err)
	}
}

// repoGit returns a function running git in dir, as user t, and
// returning its output; it skips the test where git is missing.
func repoGit(t *testing.T, dir string) func(args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
}
