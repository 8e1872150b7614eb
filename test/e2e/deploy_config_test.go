package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// TestDeployedPhoenixYAMLVerifiesAndTells: a project only ever deployed
// with 'phoenix deploy' (never released) against a running server gets
// its phoenix.yaml in effect: the deployment is verified with its health
// check (not GET /, which answers), which fails, and its channel is told
// so, naming the check; 'phoenix projects config' says where the file
// came from.
func TestDeployedPhoenixYAMLVerifiesAndTells(t *testing.T) {
	msgs := make(chan notify.Message, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		msgs <- m
	}))
	t.Cleanup(hook.Close)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	startServer(t, data)
	writeSite(t, filepath.Join(work, "site"), "v1") // no assets/ready.js (assets/ are not rewritten to index.html)
	yaml := "project: {name: shop}\nenvironments:\n  production:\n    health_checks: [{name: ready, url: /assets/ready.js}]\n" +
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"" + hook.URL + "/hook\"}\n"
	if err := os.WriteFile(filepath.Join(work, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PHOENIX_DATA=" + data}
	r := run(t, work, env, "deploy", "site", "--env", "production")
	if r.code != 0 || !strings.Contains(r.stdout, "phoenix.yaml in effect: no probes, no alert rules, 1 channel, health checks of production (updated)") {
		t.Fatalf("deploy: %+v", r)
	}
	select {
	case m := <-msgs:
		if m.Event != "deploy.failed" || !strings.Contains(m.Title, "shop/production") || !hasFact(m, "Check ready") {
			t.Fatalf("the channel got %+v", m)
		}
	case <-time.After(time.Minute):
		t.Fatal("the channel heard nothing of the deployment")
	}
	if r := run(t, work, env, "projects", "config", "shop"); r.code != 0 || !strings.Contains(r.stdout, "phoenix deploy by admin") {
		t.Fatalf("projects config: %+v", r)
	}
}

func hasFact(m notify.Message, name string) bool {
	for _, f := range m.Facts {
		if f.Name == name {
			return true
		}
	}
	return false
}
