package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// gitRepo makes dir a git repository of everything in it, committed, and
// returns a function running git there (its trimmed output).
func gitRepo(t *testing.T, dir string) func(args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	git := gitRepoAt(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	return git
}

// gitRepoAt returns a function running git in dir (its trimmed output).
func gitRepoAt(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildYAML is a project whose one step stands for an install and a
// build: it writes node_modules and dist where it works, and hands on
// what it built and where ($PHOENIX_FILES).
const buildYAML = `project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: s
      steps:
        - name: build
          run: |
            mkdir -p node_modules dist
            cp app.txt dist/app.txt
            cat app.txt > "$PHOENIX_FILES/built"
            pwd -P > "$PHOENIX_FILES/pwd"
            if test -e untracked.txt; then echo untracked >> "$PHOENIX_FILES/built"; fi
`

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReleaseBuildsACleanCheckoutOfItsCommit: a release of a folder in a
// git repository built the folder as it was, uncommitted edits included
// (recorded as <commit>+dirty), and installed and built in the
// developer's own folder. It builds a clean checkout of the commit in the
// run's folder, records the commit exactly, leaves the developer's folder
// as it was, and removes the checkout when the run ends.
func TestReleaseBuildsACleanCheckoutOfItsCommit(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(buildYAML)
	writeFiles(t, dir, map[string]string{"app.txt": "committed\n"})
	git := gitRepo(t, dir)
	head := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.txt": "edited, not committed\n", "untracked.txt": "x"})

	d := f.wait(f.release(dir, "v1.0.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
	if d.Commit != head || !d.Checkout {
		t.Errorf("recorded commit %q (checkout %v), want %s built in a checkout", d.Commit, d.Checkout, head)
	}
	files := filepath.Join(f.dir, "runs", itoa(d.ID), "files")
	if got := readFile(t, filepath.Join(files, "built")); got != "committed\n" {
		t.Errorf("the run built %q, not the commit's app.txt", got)
	}
	src, _ := filepath.EvalSymlinks(filepath.Join(f.dir, "runs", itoa(d.ID)))
	if got := strings.TrimSpace(readFile(t, filepath.Join(files, "pwd"))); got != filepath.Join(src, "src") {
		t.Errorf("the step worked in %s, want the run's checkout %s/src", got, src)
	}
	for _, name := range []string{"node_modules", "dist"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("the run wrote %s into the developer's folder: %v", name, err)
		}
	}
	if got := readFile(t, filepath.Join(dir, "app.txt")); got != "edited, not committed\n" {
		t.Errorf("the developer's edit became %q", got)
	}
	if st := git("status", "--porcelain"); st != "M app.txt\n?? untracked.txt" {
		t.Errorf("the developer's checkout changed: %q", st)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "runs", itoa(d.ID), "src")); !os.IsNotExist(err) {
		t.Errorf("the run's checkout outlived it: %v", err)
	}
}

// TestMonorepoProjectBuildsInItsSubFolder: a project in a sub-folder of
// its repository works in that sub-folder of the checkout, and reaches
// the rest of the repository's commit (a shared package) beside it.
func TestMonorepoProjectBuildsInItsSubFolder(t *testing.T) {
	f := newFixture(t, nil)
	mono := f.project("# not a project: the repository's top\n")
	writeFiles(t, mono, map[string]string{
		"apps/web/phoenix.yaml": strings.Replace(buildYAML, "cat app.txt >", "cat app.txt ../../shared/lib.txt >", 1),
		"apps/web/app.txt":      "web\n",
		"shared/lib.txt":        "lib\n",
	})
	git := gitRepo(t, mono)
	writeFiles(t, mono, map[string]string{"shared/lib.txt": "lib, edited\n"})

	d := f.wait(f.release(filepath.Join(mono, "apps", "web"), "v1.0.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
	if d.Commit != git("rev-parse", "HEAD") {
		t.Errorf("commit %q", d.Commit)
	}
	files := filepath.Join(f.dir, "runs", itoa(d.ID), "files")
	run, _ := filepath.EvalSymlinks(filepath.Join(f.dir, "runs", itoa(d.ID)))
	if got, want := strings.TrimSpace(readFile(t, filepath.Join(files, "pwd"))), filepath.Join(run, "src", "apps", "web"); got != want {
		t.Errorf("the step worked in %s, want %s", got, want)
	}
	if got := readFile(t, filepath.Join(files, "built")); got != "web\nlib\n" {
		t.Errorf("built %q, want the commit's app and shared library", got)
	}
	if _, err := os.Stat(filepath.Join(mono, "apps", "web", "dist")); !os.IsNotExist(err) {
		t.Errorf("the run built in the developer's folder: %v", err)
	}
}

// TestInPlaceBuildsTheFolderAsItIs: outside git, and with InPlace
// (phoenix release --in-place) inside it, the run works in the project
// folder as before, recording HEAD with +dirty for uncommitted changes.
func TestInPlaceBuildsTheFolderAsItIs(t *testing.T) {
	f := newFixture(t, nil)
	plain := f.project(buildYAML)
	writeFiles(t, plain, map[string]string{"app.txt": "plain\n"})
	d := f.wait(f.release(plain, "v1.0.0").ID)
	if d.Status != Succeeded || d.Checkout || d.Commit != "" {
		t.Fatalf("outside git: run %s (checkout %v, commit %q): %s", d.Status, d.Checkout, d.Commit, d.Message)
	}
	if got := readFile(t, filepath.Join(plain, "dist", "app.txt")); got != "plain\n" {
		t.Errorf("outside git the folder was not built in place: %q", got)
	}

	repo := f.project(strings.Replace(buildYAML, "name: shop", "name: shop2", 1))
	writeFiles(t, repo, map[string]string{"app.txt": "committed\n"})
	git := gitRepo(t, repo)
	writeFiles(t, repo, map[string]string{"app.txt": "edited\n"})
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: repo, Version: "v1.0.0", Actor: "alice", InPlace: true})
	if err != nil {
		t.Fatal(err)
	}
	d = f.wait(r.ID)
	if d.Status != Succeeded || d.Checkout || d.Commit != git("rev-parse", "HEAD")+"+dirty" {
		t.Fatalf("in place: run %s (checkout %v, commit %q): %s", d.Status, d.Checkout, d.Commit, d.Message)
	}
	if got := readFile(t, filepath.Join(repo, "dist", "app.txt")); got != "edited\n" {
		t.Errorf("in place the folder was not built as it is: %q", got)
	}
}

// TestReleaseOfACommitAsked: Commit names the commit to build (a tag
// here), not only one to record; one the repository does not hold is
// refused before anything is queued, as is a commit without the project.
func TestReleaseOfACommitAsked(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(buildYAML)
	writeFiles(t, dir, map[string]string{"app.txt": "one\n"})
	git := gitRepo(t, dir)
	git("tag", "v1.0.0")
	one := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.txt": "two\n"})
	git("commit", "-qam", "two")
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "v1.0.0", Actor: "alice", Commit: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded || d.Commit != one {
		t.Fatalf("run %s at %q, want succeeded at %s", d.Status, d.Commit, one)
	}
	if got := readFile(t, filepath.Join(f.dir, "runs", itoa(d.ID), "files", "built")); got != "one\n" {
		t.Errorf("built %q, want the tag's", got)
	}
	_, err = f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "v1.0.1", Actor: "alice", Commit: "0123456789abcdef"})
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), `commit "0123456789abcdef" is not in the git repository of `+dir) {
		t.Errorf("an unknown commit: %v", err)
	}
	sub := filepath.Join(dir, "new")
	writeFiles(t, sub, map[string]string{"phoenix.yaml": strings.Replace(buildYAML, "name: shop", "name: fresh", 1)})
	_, err = f.svc.Release(context.Background(), ReleaseRequest{Dir: sub, Version: "v1.0.0", Actor: "alice"})
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "has no new/phoenix.yaml") {
		t.Errorf("a project not committed: %v", err)
	}
}

// TestConfinedStepsOfACheckoutCannotReachTheFolder: where steps are
// confined, a step of a run in a checkout reaches the checkout, not the
// developer's folder it was made from (a dependency's install script
// cannot change the next build's source, nor read the folder's .env),
// and git in the checkout reads the objects it borrows from there.
func TestConfinedStepsOfACheckoutCannotReachTheFolder(t *testing.T) {
	if _, err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	f := newFixture(t, func(o *Options) { o.Hidden = []string{filepath.Join(t.TempDir(), "data")} })
	dir := f.project("")
	script := fmt.Sprintf(`if cat %[1]s/.env || echo x > %[1]s/planted || echo x >> %[1]s/app.txt; then exit 1; fi
echo built > app.txt
git log -1 --format=%%H > "$PHOENIX_FILES/head"`, dir)
	writeFiles(t, dir, map[string]string{
		"phoenix.yaml": fmt.Sprintf("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: s\n      steps: [{name: x, run: %q}]\n", script),
		"app.txt":      "app\n",
	})
	git := gitRepo(t, dir)
	writeFiles(t, dir, map[string]string{".env": "KEY=secret"})
	d := f.wait(f.release(dir, "v1.0.0").ID)
	if d.Status != Succeeded || !d.Checkout {
		t.Fatalf("run %s (checkout %v): %s\n%s", d.Status, d.Checkout, d.Message, f.log(d.ID, ""))
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(f.dir, "runs", itoa(d.ID), "files", "head"))); got != git("rev-parse", "HEAD") {
		t.Errorf("git in the checkout answered %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "app.txt")); got != "app\n" {
		t.Errorf("the developer's app.txt became %q", got)
	}
}

// TestWorkflowBuildsTheCommitItWasGiven: a workflow run of a folder in a
// git repository works in a checkout of the commit its trigger named (a
// webhook's pushed commit), not the folder as it is; a commit the
// repository does not hold (not fetched yet) is refused, not recorded
// beside a build of something else.
func TestWorkflowBuildsTheCommitItWasGiven(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`project: {name: shop}
environments: {production: {}}
workflows:
  on-push:
    triggers:
      - cron: "@daily"
    steps:
      - {name: b, run: 'cat app.txt > "$PHOENIX_FILES/built"'}
`)
	writeFiles(t, dir, map[string]string{"app.txt": "pushed\n"})
	git := gitRepo(t, dir)
	pushed := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.txt": "later\n"})
	git("commit", "-qam", "later")
	ctx := context.Background()
	r, err := f.svc.StartWorkflow(ctx, WorkflowRequest{Dir: dir, Workflow: "on-push", Trigger: "webhook",
		Inputs: Inputs{Values: map[string]string{"commit": pushed}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded || d.Commit != pushed || !d.Checkout {
		t.Fatalf("run %s at %q (checkout %v): %s", d.Status, d.Commit, d.Checkout, d.Message)
	}
	if got := readFile(t, filepath.Join(f.dir, "runs", itoa(d.ID), "files", "built")); got != "pushed\n" {
		t.Errorf("built %q, want the pushed commit's", got)
	}
	_, err = f.svc.StartWorkflow(ctx, WorkflowRequest{Dir: dir, Workflow: "on-push", Trigger: "webhook",
		Inputs: Inputs{Values: map[string]string{"commit": "9fceb02"}}})
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), `commit "9fceb02" is not in the git repository`) {
		t.Errorf("a commit not fetched: %v", err)
	}
}

// TestWorkflowInPlaceWorksInTheFolder: a workflow with in_place (one that
// updates the project folder, git pull) runs its steps in the folder as it
// is, uncommitted changes and all, records the commit its trigger named,
// and makes no checkout.
func TestWorkflowInPlaceWorksInTheFolder(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`project: {name: shop}
environments: {production: {}}
workflows:
  sync:
    in_place: true
    triggers:
      - cron: "@daily"
    steps:
      - {name: b, run: 'pwd > "$PHOENIX_FILES/where"; cat app.txt > "$PHOENIX_FILES/built"; echo synced > synced.txt'}
`)
	writeFiles(t, dir, map[string]string{"app.txt": "committed\n"})
	git := gitRepo(t, dir)
	pushed := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.txt": "not committed\n"})
	r, err := f.svc.StartWorkflow(context.Background(), WorkflowRequest{Dir: dir, Workflow: "sync", Trigger: "webhook",
		Inputs: Inputs{Values: map[string]string{"commit": pushed}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded || d.Checkout || d.Commit != pushed {
		t.Fatalf("run %s at %q (checkout %v): %s", d.Status, d.Commit, d.Checkout, d.Message)
	}
	files := filepath.Join(f.dir, "runs", itoa(d.ID), "files")
	if got := readFile(t, filepath.Join(files, "built")); got != "not committed\n" {
		t.Errorf("built %q, want the folder's file as it is", got)
	}
	if got, want := strings.TrimSpace(readFile(t, filepath.Join(files, "where"))), dir; got != want {
		t.Errorf("the step worked in %s, want the project folder %s", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "synced.txt")); got != "synced\n" {
		t.Errorf("the step's write to the folder: %q", got)
	}
}

// TestWaitingRunKeepsItsCheckoutAcrossARestart: a run waiting at its
// approval gate when the server stops keeps its checkout; once resumed
// and approved, the steps after the gate work in it (what the build left
// there is still there) and it is removed when the run ends. A server
// without it (another replica's) makes it again from the commit.
func TestWaitingRunKeepsItsCheckoutAcrossARestart(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`project: {name: shop}
environments:
  production:
    protection: {approvals: 1}
pipeline:
  stages:
    - name: build
      steps:
        - {name: compile, run: cp app.txt compiled}
    - name: ship
      needs: [build]
      environment: production
      steps:
        - {name: deploy, run: 'echo "shipping $(cat app.txt) $(cat compiled 2>/dev/null || echo not-compiled)"'}
`)
	writeFiles(t, dir, map[string]string{"app.txt": "committed"})
	gitRepo(t, dir)
	writeFiles(t, dir, map[string]string{"app.txt": "edited"})
	src := func(id int64) string { return filepath.Join(f.dir, "runs", itoa(id), "src") }
	ship := func(id int64, gone bool) string {
		t.Helper()
		f.waitStatus(id, Waiting)
		// The checkout goes while no server runs: a started one may
		// resume the run (and find its checkout) at once.
		if err := f.svc.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if gone {
			removeTree(src(id))
		}
		f.svc = f.start(nil)
		if err := f.svc.Approve(context.Background(), id, "", "bob", "lgtm"); err != nil {
			t.Fatal(err)
		}
		if d := f.wait(id); d.Status != Succeeded {
			t.Fatalf("the resumed run %s: %s\n%s", d.Status, d.Message, f.log(id, ""))
		}
		if _, err := os.Stat(src(id)); !os.IsNotExist(err) {
			t.Errorf("the checkout outlived the run: %v", err)
		}
		return f.log(id, "ship/deploy")
	}
	if log := ship(f.release(dir, "v1.0.0").ID, false); !strings.Contains(log, "shipping committed committed") {
		t.Errorf("after a restart the deploy did not work in the run's checkout:\n%s", log)
	}
	if log := ship(f.release(dir, "v1.0.1").ID, true); !strings.Contains(log, "shipping committed not-compiled") {
		t.Errorf("without the checkout the deploy did not work in one made again:\n%s", log)
	}
}

// TestStepsCannotBorrowWhatTheyMayNotRead: a confined step may change
// its checkout's alternates file, which gives the steps' git the object
// folders it names to read; one naming a folder of the data dir gives the
// next step nothing.
func TestStepsCannotBorrowWhatTheyMayNotRead(t *testing.T) {
	f, data := confinedFixture(t, nil)
	writeFiles(t, data, map[string]string{"vault/key": "secret"})
	dir := f.project(fmt.Sprintf(`project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: s
      steps:
        - {name: plant, run: 'echo %[1]s >> .git/objects/info/alternates'}
    - name: t
      needs: [s]
      steps:
        - {name: read, run: 'if cat %[1]s/key; then exit 1; fi'}
`, filepath.Join(data, "vault")))
	gitRepo(t, dir)
	if d := f.wait(f.release(dir, "v1.0.0").ID); d.Status != Succeeded {
		t.Errorf("run %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
}
