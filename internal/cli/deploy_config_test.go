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
	t.Parallel()
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

// TestStagingTokenDeploysWithTheProjectsPhoenixYAML: a deploy token for
// staging (docs/auth.md's CI token) deploys to staging with the project's
// phoenix.yaml, which names production too: production, which it may not
// re-declare, is left as the server holds it with a note, instead of the
// deploy refused with 'permission denied: deploy on shop/production'. A
// refusal on the environment deployed to still stops the deploy.
func TestStagingTokenDeploysWithTheProjectsPhoenixYAML(t *testing.T) {
	unsetEnv(t, "PHOENIX_TOKEN", "PHOENIX_SERVER", "PHOENIX_ENV")
	data := t.TempDir()
	startServer(t, data)
	siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {}\n  production: {domains: [www.shop.example]}\n")
	if out, errs, code := run("deploy", "dist", "--env", "production", "--data", data); code != 0 {
		t.Fatalf("the admin's deploy: exit %d\n%s%s", code, out, errs)
	}
	secret := func(env string) string {
		var tok struct{ Secret string }
		out := mustRun(t, "", "token", "create", "--deploy", "--project", "shop", "--env", env, "--expires", "30m", "--data", data, "-o", "json")
		if err := json.Unmarshal([]byte(out), &tok); err != nil {
			t.Fatal(err)
		}
		return tok.Secret
	}
	staging, qa := secret("staging"), secret("qa")
	t.Setenv("PHOENIX_TOKEN", staging)
	out, errs, code := run("deploy", "dist", "--env", "staging", "--data", data)
	if code != 0 || !strings.Contains(out, "to shop/staging") ||
		!strings.Contains(errs, "note: phoenix.yaml's environment production left as the server holds it: permission denied: deploy on shop/production") {
		t.Fatalf("the staging token's deploy: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	t.Setenv("PHOENIX_TOKEN", qa)
	if out, errs, code := run("deploy", "dist", "--env", "staging", "--data", data); code != 1 ||
		!strings.Contains(errs, "permission denied: deploy on shop/staging") || strings.Contains(out, "deployed") {
		t.Fatalf("a qa token's deploy to staging: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
