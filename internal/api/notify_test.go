package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// fakeTester answers a test of channel "teams" as delivered, of "mail"
// as refused, and has no other.
type fakeTester struct{ tested []string }

func (f *fakeTester) ProjectEnvironments(context.Context, string) ([]string, error) {
	return []string{"production", "staging"}, nil
}

func (f *fakeTester) TestChannel(_ context.Context, project, name, actor string) (NotifyTestResult, error) {
	f.tested = append(f.tested, project+"/"+name+" by "+actor)
	switch name {
	case "teams":
		return NotifyTestResult{TestResult: notify.TestResult{Channel: name, OK: true, Outcome: notify.TestDelivered, HTTPStatus: 202},
			Resolved: "notify-undeliverable@notify:shop/teams"}, nil
	case "mail":
		return NotifyTestResult{TestResult: notify.TestResult{Channel: name, Outcome: notify.TestRefused,
			Error: "email: 550 mailbox unavailable"}}, nil
	}
	return NotifyTestResult{}, noChannel(project, name)
}

// TestChannelTestNeedsDeployEverywhere: testing a project's channel needs
// what changing its channels does, deploy on every environment of the
// project (they read production's secrets): a deploy token or a user
// limited to staging is refused naming production, a viewer too, and
// whoever may not read the project is told it has no such channel. A
// test is recorded in the audit log, a refused one as failed, with the
// receiver's answer.
func TestChannelTestNeedsDeployEverywhere(t *testing.T) {
	f := newFixture(t)
	tester := &fakeTester{}
	a := New(Options{Logger: f.api.opts.Logger, Store: f.db, Deploy: f.dep, Auth: f.auth, Audit: f.log, NotifyTest: tester})
	f.srv = httptest.NewServer(a.Handler())
	t.Cleanup(f.srv.Close)
	const path = "/api/v1/projects/shop/channels/teams/test"
	for who, want := range map[string]int{"ci": 403, "stager": 403, "viewer": 403, "auditor": 404} {
		code, body, _ := f.call(who, "POST", path, nil)
		if code != want {
			t.Errorf("%s: %d %s, want %d", who, code, body, want)
		}
		if who == "stager" && !strings.Contains(string(body), "you lack it on production") {
			t.Errorf("stager's refusal does not name production: %s", body)
		}
	}
	if len(tester.tested) != 0 {
		t.Fatalf("tested %v for callers who may not", tester.tested)
	}
	code, body, _ := f.call("admin", "POST", path, nil)
	var res NotifyTestResult
	if code != 200 || json.Unmarshal(body, &res) != nil || !res.OK || res.HTTPStatus != 202 || res.Resolved == "" {
		t.Fatalf("admin: %d %s", code, body)
	}
	if code, body, _ := f.call("admin", "POST", "/api/v1/projects/shop/channels/mail/test", nil); code != 200 || !strings.Contains(string(body), `"outcome": "refused"`) {
		t.Fatalf("refused test: %d %s", code, body)
	}
	if code, _, _ := f.call("admin", "POST", "/api/v1/projects/shop/channels/pager/test", nil); code != 404 {
		t.Fatalf("unknown channel: %d", code)
	}
	recs, err := f.log.Query(bg, audit.Filter{Action: "notify.*"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Action+" "+r.Target+" "+r.Outcome+" "+r.Detail)
	}
	want := []string{
		"notify.test shop/teams ok delivered, HTTP 202; resolved notify-undeliverable@notify:shop/teams",
		"notify.test shop/mail failed refused: email: 550 mailbox unavailable",
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("audit log %q lacks %q", got, w)
		}
	}
	if code, _, _ := f.call("admin", "GET", path, nil); code != http.StatusMethodNotAllowed && code != 404 {
		t.Errorf("GET: %d", code)
	}
}
