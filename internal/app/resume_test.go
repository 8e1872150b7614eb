package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestPendingApprovalSurvivesARestart: a release waiting for its
// production approval when the server stops is still waiting after the
// next start; approved through the API then ('phoenix approve RUN'), it
// deploys the artifact it built before the restart, and its logs hold the
// steps run before it.
func TestPendingApprovalSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir, Proc: "-"})
	proj := approvalProject(t)
	run, err := a.Pipeline.Release(ctx, pipeline.ReleaseRequest{Dir: proj, Version: "v1.0.0", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run waits for its approval", func() bool { return runStatus(t, a, run.ID) == pipeline.Waiting })
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	b := startOpts(t, Options{DataDir: dir, Proc: "-"}) // the upgraded server
	if st := runStatus(t, b, run.ID); st != pipeline.Waiting {
		t.Fatalf("after the restart the run is %s, want waiting", st)
	}
	approveRun(t, b, run.ID)
	var log bytes.Buffer
	if err := b.Pipeline.Logs(ctx, run.ID, pipeline.LogOptions{Follow: true}, &log); err != nil {
		t.Fatal(err)
	}
	if st := runStatus(t, b, run.ID); st != pipeline.Succeeded {
		t.Fatalf("the resumed run %s:\n%s", st, log.String())
	}
	wantPage(t, b, "production", "<title>resumed</title>")
	for _, want := range []string{"build/artifact | artifact sha256:", "ship/approval | [phoenix] still waiting after a restart",
		"ship/deploy | deployment 1 of v1.0.0 is live on production"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the logs lack %q:\n%s", want, log.String())
		}
	}
}

// approvalProject writes a project that builds an artifact and deploys it
// to production behind an approval gate (ship/approval), and returns its
// folder.
func approvalProject(t *testing.T) string {
	t.Helper()
	proj := t.TempDir()
	yaml := `version: 1
project: {name: shop}
environments: {production: {protection: {approvals: 1}}}
pipeline:
  stages:
    - name: build
      steps:
        - {name: site, run: "mkdir -p out && printf '<title>resumed</title>' > out/index.html"}
        - {name: artifact, uses: create-artifact, with: {dir: out}}
    - {name: ship, needs: [build], environment: production, steps: [{name: deploy, uses: deploy}]}
`
	if err := os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return proj
}

// approveRun approves run id through a's API as its admin, as 'phoenix
// approve RUN' does.
func approveRun(t *testing.T, a *App, id int64) {
	t.Helper()
	if code, body := apiSend(t, a, "POST", fmt.Sprintf("/api/v1/runs/%d/approve", id), `{"comment": "lgtm"}`); code/100 != 2 {
		t.Fatalf("approve: %d %s", code, body)
	}
}

// TestReplicasResumeAWaitingRelease: when the leader's session ends while
// a release waits for its approval, the replica that leads next resumes
// it; approved through the old leader, it deploys, and the logs of the
// steps the old leader ran are served through either replica.
func TestReplicasResumeAWaitingRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	run, err := follower.Pipeline.Release(ctx, pipeline.ReleaseRequest{Dir: approvalProject(t), Version: "v1.0.0", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run waits for its approval", func() bool { return runStatus(t, follower, run.ID) == pipeline.Waiting })
	killLeaderSession(t, follower)
	eventually(t, "the follower leads", follower.Leading)
	eventually(t, "the old leader stopped leading", func() bool { return !leader.Leading() })
	eventually(t, "the new leader resumes the run", func() bool {
		r, err := leader.Pipeline.Runner(ctx, run.ID)
		return err == nil && r == follower.advertise()
	})
	if st := runStatus(t, leader, run.ID); st != pipeline.Waiting {
		t.Fatalf("after the failover the run is %s, want waiting", st)
	}
	approveRun(t, leader, run.ID)
	eventually(t, "the resumed run succeeds", func() bool { return runStatus(t, leader, run.ID) == pipeline.Succeeded })
	eventually(t, "production serves the release", pageIs(t, leader, "production", "<title>resumed</title>"))
	for _, a := range []*App{leader, follower} {
		if body := runLogs(t, a, run.ID); !strings.Contains(body, "build/artifact | artifact sha256:") ||
			!strings.Contains(body, "ship/deploy | deployment 1 of v1.0.0 is live on production") {
			t.Fatalf("the run's logs: %s", body)
		}
	}
}
