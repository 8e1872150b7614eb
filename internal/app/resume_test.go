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
	ctx := context.Background()
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir, Proc: "-"})
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
	if code, body := apiSend(t, b, "POST", fmt.Sprintf("/api/v1/runs/%d/approve", run.ID), `{"comment": "after the upgrade"}`); code/100 != 2 {
		t.Fatalf("approve: %d %s", code, body)
	}
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
