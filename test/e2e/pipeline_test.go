package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const quickYAML = `version: 1
project: {name: shop}
environments: {staging: {}}
pipeline:
  stages:
    - name: build
      steps:
        - name: compile
          run: echo "building $PHOENIX_VERSION"
        - name: use-secret
          secrets: [DEPLOY_TOKEN]
          run: echo "token is $DEPLOY_TOKEN"
`

const gatedYAML = `version: 1
project: {name: vip}
environments:
  production: {protection: {approvals: 1}}
pipeline:
  stages:
    - name: ship
      environment: production
      steps:
        - {name: deploy, run: echo shipped}
`

// TestReleaseThroughTheServer: phoenix release runs the project's pipeline
// on a running server, with a step secret from the vault masked in the
// logs; runs and logs show it; a production release waits at its gate,
// its releaser cannot approve it, and cancel stops it.
func TestReleaseThroughTheServer(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	const secret = "vault-token-5d4c3b2a1f"
	startServerWith(t, data, []string{"PHOENIX_MASTER_KEY=e2e-pipeline-master-key"})
	env := []string{"PHOENIX_DATA=" + data}
	project := func(name, yaml string) string {
		dir := filepath.Join(work, name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644)
		return dir
	}
	shop, vip := project("shop", quickYAML), project("vip", gatedYAML)
	if r := runStdin(t, shop, env, secret, "secret", "set", "DEPLOY_TOKEN"); r.code != 0 {
		t.Fatalf("secret set: %+v", r)
	}

	r := run(t, shop, env, "release", "v1.0.0")
	if r.code != 0 || !strings.Contains(r.stdout, "building v1.0.0") || !strings.Contains(r.stdout, "token is ***") ||
		!strings.Contains(r.stdout, "run 1 succeeded") {
		t.Fatalf("release: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatal("the secret reached the release output")
	}
	if r := run(t, shop, env, "logs", "1", "--step", "build/compile"); r.code != 0 || r.stdout != "building v1.0.0\n" {
		t.Fatalf("logs --step: %+v", r)
	}
	if r := run(t, shop, env, "release", "v1.1.0", "--env", "nowhere"); r.code != 2 || !strings.Contains(r.stderr, "unknown environment nowhere") {
		t.Fatalf("a release to an undeclared environment: %+v", r)
	}

	r = run(t, vip, env, "release", "v2.0.0", "--detach", "-o", "json")
	var queued struct {
		ID int64 `json:"id"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &queued) != nil || queued.ID == 0 {
		t.Fatalf("release --detach: %+v", r)
	}
	id := strconv.FormatInt(queued.ID, 10)
	if r := run(t, vip, env, "approve", id); r.code != 1 || !strings.Contains(r.stderr, "cannot approve") {
		t.Fatalf("the releaser approved their own release: %+v", r)
	}
	if r := run(t, vip, env, "approve", id, "--reject"); r.code != 2 {
		t.Fatalf("reject without a reason: %+v", r)
	}
	if r := run(t, vip, env, "cancel", id); r.code != 0 {
		t.Fatalf("cancel: %+v", r)
	}
	run(t, vip, env, "logs", id, "-f") // returns once the run has finished
	runs := run(t, vip, env, "runs", "-o", "json")
	var list []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) < 2 {
		t.Fatalf("runs: %+v", runs)
	}
	for _, it := range list {
		if it.ID == queued.ID && it.Status != "cancelled" {
			t.Fatalf("run %d is %s after cancel", it.ID, it.Status)
		}
	}
	r = run(t, vip, env, "retry", id, "--detach")
	next := strconv.FormatInt(queued.ID+1, 10)
	if r.code != 0 || r.stdout != "run "+next+" queued (retry of "+id+")\nfollow it with: phoenix logs "+next+" -f\n" {
		t.Fatalf("retry --detach: %+v", r)
	}
	if r := run(t, vip, env, "cancel", next); r.code != 0 {
		t.Fatalf("cancel the retry: %+v", r)
	}
	run(t, vip, env, "logs", next, "-f")
}
