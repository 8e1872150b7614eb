package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestServerWorkIsAuditedUnderAnActor: the environment a release's deploy
// step declares (env.save) is recorded under the run's actor, and the
// collection the server runs by itself after an activation (deploy.gc)
// under phoenix:gc. Both were recorded with no actor at all ("-" in
// 'phoenix audit log' and in the report's change tracking).
func TestServerWorkIsAuditedUnderAnActor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	dir := t.TempDir()
	yaml := `project: {name: shop}
environments:
  staging: {protection: {lock: true}}
pipeline:
  stages:
    - name: build
      steps:
        - {name: site, run: "mkdir -p dist && echo '<h1>one</h1>' > dist/index.html"}
        - {name: artifact, uses: create-artifact, with: {dir: dist}}
    - name: staging
      needs: [build]
      environment: staging
      steps:
        - {name: deploy, uses: deploy}
`
	releaseFolder(t, a, dir, yaml, "v1.0.0", "alice")

	saved, err := a.Audit.Query(ctx, audit.Filter{Action: "env.save"})
	if err != nil || len(saved) != 1 {
		t.Fatalf("env.save records: %+v, %v", saved, err)
	}
	if r := saved[0]; r.Actor != "alice" || r.Target != "shop/staging" {
		t.Errorf("the release's env.save: actor %q, target %q; want alice, shop/staging", r.Actor, r.Target)
	}

	// The activation kicked a collection in the background: wait for its
	// record (not timing it).
	deadline := time.Now().Add(30 * time.Second)
	var gc []audit.Record
	for len(gc) == 0 {
		if gc, err = a.Audit.Query(ctx, audit.Filter{Action: "deploy.gc"}); err != nil {
			t.Fatal(err)
		}
		if len(gc) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no deploy.gc record after the activation")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if gc[0].Actor != GCActor {
		t.Errorf("the server's own collection: actor %q, want %q", gc[0].Actor, GCActor)
	}

	all, err := a.Audit.Query(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Actor == "" {
			t.Errorf("record %d (%s %s) has no actor", r.Seq, r.Action, r.Target)
		}
	}
}

// releaseFolder writes yaml as dir's phoenix.yaml, releases version from
// dir as actor and waits for the run, which must succeed.
func releaseFolder(t *testing.T, a *App, dir, yaml, version, actor string) *pipeline.RunDetail {
	t.Helper()
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := a.Pipeline.Release(ctx, pipeline.ReleaseRequest{Dir: dir, Version: version, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if err := a.Pipeline.Logs(ctx, run.ID, pipeline.LogOptions{Follow: true}, &log); err != nil {
		t.Fatal(err)
	}
	d, err := a.Pipeline.Get(ctx, run.ID)
	if err != nil || d.Status != pipeline.Succeeded {
		t.Fatalf("release: %+v, %v\n%s", d, err, log.String())
	}
	return d
}
