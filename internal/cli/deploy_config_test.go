package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployHandsOverPhoenixYAML: 'phoenix deploy' of a project never
// released hands the server its phoenix.yaml and says what is in effect;
// 'phoenix projects config' (another in-process server: it was stored)
// says where it came from; a file with a secret value written in it is
// refused, naming the field, and deploys nothing.
func TestDeployHandsOverPhoenixYAML(t *testing.T) {
	data, site, dir := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<p>shop</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	watched := write("watched.yaml", "project: {name: shop}\nenvironments:\n  production:\n"+
		"    health_checks: [{name: home, url: /}]\n"+
		"monitor:\n  endpoints: [{name: home, environment: production, url: /}]\n"+
		"  alerts: [{name: Down, metric: availability, threshold: 99}]\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"http://127.0.0.1:9/hook\"}\n")
	out, errs, code := runVault(t, "", "deploy", site, "--env", "production", "--data", data, "-c", watched)
	if code != 0 || strings.Contains(errs, "note:") ||
		!strings.Contains(out, "phoenix.yaml in effect: 1 probe, 1 alert rule, 1 channel, health checks of production (updated)") {
		t.Fatalf("deploy: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	out = mustRun(t, "", "projects", "config", "shop", "--data", data)
	for _, want := range []string{"phoenix deploy by ", "Down", "hook", "production: home"} {
		if !strings.Contains(out, want) {
			t.Fatalf("projects config lacks %q:\n%s", want, out)
		}
	}
	var js struct {
		From, Kind string
		Probes     []string
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "projects", "config", "shop", "--data", data, "-o", "json")), &js); err != nil ||
		js.Kind != "deploy" || !strings.HasPrefix(js.From, "phoenix deploy") || len(js.Probes) != 1 {
		t.Fatalf("json %+v, %v", js, err)
	}

	leaky := write("leaky.yaml", "project: {name: shop}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"http://127.0.0.1:9/hook\", secret: hunter2}\n")
	out, errs, code = runVault(t, "", "deploy", site, "--env", "production", "--data", data, "-c", leaky)
	if code == 0 || !strings.Contains(errs, "notifications.channels.hook.secret") || !strings.Contains(errs, "phoenix secret set") ||
		strings.Contains(out+errs, "hunter2") || strings.Contains(out, "deployed") {
		t.Fatalf("a literal secret: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
