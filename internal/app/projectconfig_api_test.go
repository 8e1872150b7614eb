package app

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
)

// putConfigAs hands a the phoenix.yaml of shop with token and returns
// the answer's status and body.
func putConfigAs(t *testing.T, a *App, token, yaml string) (int, string) {
	t.Helper()
	return apiSendAs(t, a, token, "PUT", "/api/v1/projects/shop/config", yaml)
}

// tokenOf makes an API token: user's (a new viewer when not admin), or a
// deploy token of project.
func tokenOf(t *testing.T, a *App, user, project string) string {
	t.Helper()
	ctx := context.Background()
	req := auth.TokenRequest{Name: "test", User: user}
	if project != "" {
		req = auth.TokenRequest{Name: "test", Kind: auth.KindDeploy, Project: project, Environment: "production"}
	} else if _, err := a.Auth.CreateUser(ctx, user, "a long enough password", []auth.Grant{{Role: auth.RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.Auth.CreateToken(ctx, adminPrincipal(t, a, a.opts.DataDir), req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestConfigHandOverIsChecked: a phoenix.yaml the config loader refuses,
// one of another project and one with a secret value written in it are
// refused naming the field (the secret echoed nowhere), as is a caller
// who may not deploy to the project; nothing is stored, the refusals are
// audited, and the hand-over that is accepted is audited with its actor.
func TestConfigHandOverIsChecked(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	admin, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	good := "project: {name: shop}\nenvironments: {production: {}}\n"
	for _, c := range []struct{ token, yaml, want string }{
		{admin, good + "monitor:\n  alerts: [{name: Down, metric: bogus, threshold: 1}]\n", "monitor.alerts[0].metric"},
		{admin, "project: {name: blog}\n", `project.name is \"blog\", but it was handed over for project \"shop\"`},
		{admin, good + "notifications:\n  channels:\n    mail: {type: email, to: [ops@example.com], smtp: {host: mail, from: p@example.com, password: hunter2}}\n",
			"phoenix.yaml:5:88: notifications.channels.mail.smtp.password: a secret value is written"},
		{admin, "", "request body: empty"},
		{tokenOf(t, a, "vic", ""), good, "forbidden"},
		{tokenOf(t, a, "", "blog"), good, "forbidden"},
	} {
		code, body := putConfigAs(t, a, c.token, c.yaml)
		if code/100 != 4 || !strings.Contains(strings.ToLower(body), strings.ToLower(c.want)) || strings.Contains(body, "hunter2") {
			t.Errorf("refusal naming %q: %d %s", c.want, code, body)
		}
	}
	if e, err := a.Configs.Get(context.Background(), "shop"); err != nil || e != nil {
		t.Fatalf("stored %+v, %v", e, err)
	}
	if code, body := putConfigAs(t, a, admin, good); code != 200 {
		t.Fatalf("hand-over: %d %s", code, body)
	}
	recs, err := a.Audit.Query(context.Background(), audit.Filter{Action: "project.config"})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, r := range recs {
		outcomes[r.Outcome]++
		if r.Outcome == audit.OK && (r.Actor != "admin" || r.Target != "shop" || !strings.Contains(r.Detail, "phoenix deploy by admin")) {
			t.Errorf("the hand-over's record: %+v", r)
		}
	}
	if outcomes[audit.OK] != 1 || len(recs) < 5 {
		t.Fatalf("audit records %+v", recs)
	}
}
