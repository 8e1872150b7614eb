package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// TestServiceActionsAreTheConfigActions: the service's actions, the
// built-ins and the release action it adds, are those phoenix.yaml's
// loader accepts.
func TestServiceActionsAreTheConfigActions(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.svc.Actions().Names(); !slices.Equal(got, config.Actions) {
		t.Errorf("the service's actions %v,\nconfig.Actions        %v", got, config.Actions)
	}
}

// shipYAML is a project whose release writes app.txt to its files.
const shipYAML = `project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: ship
      environment: production
      steps:
        - {name: b, run: 'cat app.txt > "$PHOENIX_FILES/built"'}
`

const tagReleaseYAML = shipYAML + `workflows:
  on-tag:
    triggers:
      - cron: "@daily"
    steps:
      - {name: release, uses: release}
`

// TestWorkflowReleasesThePushedTag: a workflow's release step (a pushed
// tag's webhook) starts a release of the tag at the pushed commit, not
// the folder's HEAD, as a run of its own whose actor is the webhook's
// sender and whose trigger names the workflow run; the step outputs it.
func TestWorkflowReleasesThePushedTag(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(tagReleaseYAML)
	writeFiles(t, dir, map[string]string{"app.txt": "tagged\n"})
	git := gitRepo(t, dir)
	git("tag", "v1.0.0")
	tagged := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.txt": "later\n"})
	git("commit", "-qam", "later")

	wf, err := f.svc.StartWorkflow(context.Background(), WorkflowRequest{Dir: dir, Workflow: "on-tag", Trigger: "webhook", Actor: "bob",
		Inputs: Inputs{Ref: "refs/tags/v1.0.0", Tag: "v1.0.0", Values: map[string]string{"commit": tagged}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(wf.ID)
	if d.Status != Succeeded || len(d.Steps) != 1 || d.Steps[0].Outputs["run"] == "" {
		t.Fatalf("workflow run %s: %s %+v\n%s", d.Status, d.Message, d.Steps, f.log(wf.ID, "release"))
	}
	id, _ := strconv.ParseInt(d.Steps[0].Outputs["run"], 10, 64)
	rel := f.wait(id)
	if rel.Status != Succeeded || rel.Kind != "release" || rel.Version != "v1.0.0" || rel.Commit != tagged || rel.Actor != "bob" {
		t.Fatalf("release run %d: %s %s %s at %s by %s: %s", id, rel.Kind, rel.Status, rel.Version, rel.Commit, rel.Actor, rel.Message)
	}
	if want := "workflow on-tag (run " + itoa(wf.ID) + ")"; rel.Trigger != want {
		t.Errorf("trigger %q, want %q", rel.Trigger, want)
	}
	if got := readFile(t, filepath.Join(f.dir, "runs", itoa(id), "files", "built")); got != "tagged\n" {
		t.Errorf("the release built %q, want the tagged commit's", got)
	}
	if log := f.log(wf.ID, "release"); !strings.Contains(log, "started release run "+itoa(id)+": v1.0.0 of shop to production") {
		t.Errorf("the step's log:\n%s", log)
	}
}

// TestReleaseStepWithoutAVersionFails: a release step of a workflow that
// no tag started, and given no version, fails saying how to give one;
// a version the project already released is refused as phoenix release
// refuses it.
func TestReleaseStepWithoutAVersionFails(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(tagReleaseYAML)
	writeFiles(t, dir, map[string]string{"app.txt": "x\n"})
	gitRepo(t, dir)
	wf, err := f.svc.StartWorkflow(context.Background(), WorkflowRequest{Dir: dir, Workflow: "on-tag", Trigger: "cron"})
	if err != nil {
		t.Fatal(err)
	}
	if d := f.wait(wf.ID); d.Status != Failed || !strings.Contains(f.log(wf.ID, "release"), "no version to release: give the step `with: {version: v1.4.2}`") {
		t.Fatalf("workflow run %s: %s\n%s", d.Status, d.Message, f.log(wf.ID, "release"))
	}
}

// TestPushedTagRecipe: the documented workflow (docs/pipelines.md
// "Releasing a pushed tag") works as written: the project folder is a
// clone that does not hold the tag yet; the webhook's run fetches it into
// the folder (in_place) and releases it at the pushed commit; with steps
// confined too.
func TestPushedTagRecipe(t *testing.T) {
	t.Run("unconfined", func(t *testing.T) { pushedTagRecipe(t, nil) })
	t.Run("confined", func(t *testing.T) {
		if _, err := sandbox.Available(); err != nil {
			t.Skip(err)
		}
		pushedTagRecipe(t, func(o *Options) { o.Hidden = []string{filepath.Join(t.TempDir(), "data")} })
	})
}

func pushedTagRecipe(t *testing.T, edit func(*Options)) {
	f := newFixture(t, edit)
	work := f.project(shipYAML + `workflows:
  on-tag:
    in_place: true
    triggers:
      - cron: "@daily"
    steps:
      - {name: fetch, run: git fetch --quiet origin "$PHOENIX_VERSION:refs/tags/$PHOENIX_VERSION"}
      - {name: release, uses: release, needs: [fetch]}
`)
	writeFiles(t, work, map[string]string{"app.txt": "first\n"})
	dev := gitRepo(t, work) // the developer's clone, which pushes
	origin := filepath.Join(f.dir, "origin.git")
	dev("clone", "-q", "--bare", work, origin)
	dev("remote", "add", "origin", origin)
	server := filepath.Join(f.dir, "server")
	dev("clone", "-q", origin, server) // the server's copy of the project

	writeFiles(t, work, map[string]string{"app.txt": "tagged\n"})
	dev("commit", "-qam", "release me")
	dev("tag", "v1.2.0")
	dev("push", "-q", "origin", "HEAD:master", "v1.2.0")
	pushed := dev("rev-parse", "HEAD")

	// GitHub's create event of a tag names no commit.
	wf, err := f.svc.StartWorkflow(context.Background(), WorkflowRequest{Dir: server, Workflow: "on-tag", Trigger: "webhook", Actor: "bob",
		Inputs: Inputs{Ref: "refs/tags/v1.2.0", Tag: "v1.2.0", Webhook: "create"}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(wf.ID)
	if d.Status != Succeeded {
		t.Fatalf("workflow run %s: %s\n%s\n%s", d.Status, d.Message, f.log(wf.ID, "fetch"), f.log(wf.ID, "release"))
	}
	id, _ := strconv.ParseInt(d.Steps[1].Outputs["run"], 10, 64)
	if rel := f.wait(id); rel.Status != Succeeded || rel.Commit != pushed {
		t.Fatalf("release run %d: %s at %s: %s", id, rel.Status, rel.Commit, rel.Message)
	}
	if got := readFile(t, filepath.Join(f.dir, "runs", itoa(id), "files", "built")); got != "tagged\n" {
		t.Errorf("the release built %q, want the pushed tag's", got)
	}
}
