package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// retryFixture releases a project whose build fails at its first commit
// (broken), then commits the fix and edits the folder without committing:
// what a retry of the failed run could build instead of what it built.
func retryFixture(t *testing.T, inPlace bool) (f *fixture, failed *RunDetail, broken, fix string) {
	t.Helper()
	f = newFixture(t, nil)
	dir := f.project("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n" +
		"    - name: s\n      steps: [{name: build, run: test -f fixed}]\n")
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("v1\n"), 0o644)
	git := gitRepo(t, dir)
	broken = git("rev-parse", "HEAD")
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "v1.0.0", Actor: "alice", InPlace: inPlace})
	if err != nil {
		t.Fatal(err)
	}
	failed = f.wait(r.ID)
	if failed.Status != Failed || failed.Commit != broken {
		t.Fatalf("first run %s at %q, want failed at %s", failed.Status, failed.Commit, broken)
	}
	os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o644)
	git("add", "fixed")
	git("commit", "-q", "-m", "fix")
	fix = git("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "app.txt"), []byte("v2, not committed\n"), 0o644)
	return f, failed, broken, fix
}

// TestRetryBuildsTheRecordedCommitAgain: a retry of a run that built a
// checkout of its commit builds that commit again, in a fresh checkout,
// whatever the folder holds now (a fix committed since, an edit not
// committed): the same failure here. It built and recorded the folder's
// commit at the retry, +dirty, instead.
func TestRetryBuildsTheRecordedCommitAgain(t *testing.T) {
	f, failed, broken, _ := retryFixture(t, false)
	d := f.retry(failed.ID)
	if d.Status != Failed || d.Commit != broken || !d.Checkout {
		t.Fatalf("retry %s at %q (checkout %v), want failed again at %s", d.Status, d.Commit, d.Checkout, broken)
	}
	want := "[phoenix] retry of run " + itoa(failed.ID) + ": commit " + broken + " again, in a fresh checkout"
	if log := f.log(d.ID, ""); !strings.Contains(log, want) {
		t.Errorf("the retry's log does not say what it builds (%s):\n%s", want, log)
	}
}

// TestRetryInPlaceRecordsTheFoldersCommitNow: a run that built its
// folder as it was (--in-place) is retried on what the folder holds when
// the retry is asked for, so it records the folder's commit then,
// "+dirty" for an edit not committed, and its log says which commit the
// failed run was at.
func TestRetryInPlaceRecordsTheFoldersCommitNow(t *testing.T) {
	f, failed, broken, fix := retryFixture(t, true)
	d := f.retry(failed.ID)
	if d.Status != Succeeded || d.Commit != fix+"+dirty" || d.Checkout {
		t.Fatalf("retry %s at %q (checkout %v), want succeeded in place at %s+dirty", d.Status, d.Commit, d.Checkout, fix)
	}
	want := "[phoenix] retry of run " + itoa(failed.ID) + " at commit " + fix + "+dirty (run " + itoa(failed.ID) + " was at " + broken + ")"
	if log := f.log(d.ID, ""); !strings.Contains(log, want) {
		t.Errorf("the retry's log does not say it is at another commit (%s):\n%s", want, log)
	}
}

// retry retries run id as alice and waits for the retry to finish.
func (f *fixture) retry(id int64) *RunDetail {
	f.t.Helper()
	r, err := f.svc.Retry(context.Background(), id, "alice")
	if err != nil {
		f.t.Fatal(err)
	}
	return f.wait(r.ID)
}
