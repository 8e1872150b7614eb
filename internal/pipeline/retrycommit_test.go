package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRetryRecordsTheFoldersCommitNow: a retry builds what the folder
// holds when it is asked for, so it records the folder's commit then,
// "+dirty" for an edit not committed, and its log says which commit the
// failed run was at. It recorded and signed the failed run's commit.
func TestRetryRecordsTheFoldersCommitNow(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	f := newFixture(t, nil)
	dir := f.project("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n" +
		"    - name: s\n      steps: [{name: build, run: test -f fixed}]\n")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("v1\n"), 0o644)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "broken")
	broken := git("rev-parse", "HEAD")
	failed := f.wait(f.release(dir, "v1.0.0").ID)
	if failed.Status != Failed || failed.Commit != broken {
		t.Fatalf("first run %s at %q, want failed at %s", failed.Status, failed.Commit, broken)
	}

	os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o644)
	git("add", "fixed")
	git("commit", "-q", "-m", "fix")
	fix := git("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("v2, not committed\n"), 0o644)

	r, err := f.svc.Retry(context.Background(), failed.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded || d.Commit != fix+"+dirty" {
		t.Fatalf("retry %s at %q, want succeeded at %s+dirty", d.Status, d.Commit, fix)
	}
	want := "[phoenix] retry of run " + itoa(failed.ID) + " at commit " + fix + "+dirty (run " + itoa(failed.ID) + " was at " + broken + ")"
	if log := f.log(d.ID, ""); !strings.Contains(log, want) {
		t.Errorf("the retry's log does not say it is at another commit (%s):\n%s", want, log)
	}
}
