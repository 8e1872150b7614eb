package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

const adminPW = "admin-password-123"

func TestLoginGoodAndBad(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()

	resp, _ := b.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next=%2F" {
		t.Fatalf("signed-out overview: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	wrongPW, page := b.login("admin", "not-the-password")
	noUser, page2 := b.login("nobody", "not-the-password")
	for _, c := range []struct {
		resp *http.Response
		page string
	}{{wrongPW, page}, {noUser, page2}} {
		if c.resp.StatusCode != http.StatusUnauthorized || !strings.Contains(c.page, "Wrong user name or password.") {
			t.Fatalf("bad login: %d\n%s", c.resp.StatusCode, c.page)
		}
		if strings.Contains(c.page, "not-the-password") {
			t.Fatal("the sign-in page echoes the password")
		}
	}
	if errorLine(page) != errorLine(page2) {
		t.Fatalf("a wrong password and an unknown user answer differently: %q vs %q", errorLine(page), errorLine(page2))
	}
	if b.cookie("__Host-phoenix_session") != "" {
		t.Fatal("a bad login set a session")
	}

	resp, _ = b.login("admin", adminPW)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("good login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, name := range []string{"__Host-phoenix_session", "__Host-phoenix_csrf"} {
		c := b.jar[name]
		if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
			t.Fatalf("cookie %s: %+v", name, c)
		}
	}
	if resp, page := b.get("/"); resp.StatusCode != 200 || !strings.Contains(page, "Signed in as <strong>admin</strong>") {
		t.Fatalf("overview after login: %d\n%s", resp.StatusCode, page)
	}
}

func errorLine(page string) string {
	return regexp.MustCompile(`<p class="error"[^>]*>[^<]*</p>`).FindString(page)
}

func TestLoginIsRateLimitedAsTheAPIs(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	var resp *http.Response
	var page string
	for range 6 { // the API allows 5 a minute per user name
		resp, page = b.login("admin", "guessing-the-password")
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "too many login attempts") {
		t.Fatalf("the sixth bad login: %d %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
}

func TestLoginFormNeedsItsNonce(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	resp, _ := b.do("POST", "/ui/login", url.Values{"user": {"admin"}, "password": {adminPW}, "nonce": {"forged"}})
	if resp.StatusCode != http.StatusForbidden || b.cookie("__Host-phoenix_session") != "" {
		t.Fatalf("login without the form's nonce: %d", resp.StatusCode)
	}
	// A cross-site post is refused before anything else.
	b.get("/ui/login")
	resp, _ = b.do("POST", "/ui/login", url.Values{"user": {"admin"}, "password": {adminPW}, "nonce": {b.cookie("__Host-phoenix_login")}},
		"Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || b.cookie("__Host-phoenix_session") != "" {
		t.Fatalf("cross-site login: %d", resp.StatusCode)
	}
}

func TestLoginRedirectsOnlyWithinTheDashboard(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	resp, _ := b.get("/ui/runs?status=failed")
	loc := resp.Header.Get("Location")
	if loc != "/ui/login?next="+url.QueryEscape("/ui/runs?status=failed") {
		t.Fatalf("redirect to sign in: %q", loc)
	}
	for next, want := range map[string]string{"/ui/runs?status=failed": "/ui/runs?status=failed", "//evil.example/": "/",
		"https://evil.example/": "/", "/api/v1/me": "/"} {
		b.jar = map[string]*cookieT{}
		_, page := b.get("/ui/login")
		m := nonceRe.FindStringSubmatch(page)
		resp, _ = b.do("POST", "/ui/login", url.Values{"user": {"admin"}, "password": {adminPW}, "nonce": {m[1]}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next=%q: went to %q, want %q", next, got, want)
		}
	}
}

// seed gives the server what every page shows: a finished run with a log
// whose phoenix.yaml has an alert rule, two deployments of production
// (the newest active), one of staging whose message is markup, a firing
// alert, and a silence.
func seed(t *testing.T, f *fixture) (first, second, runID int64) {
	t.Helper()
	runID = f.releaseWith(`project: {name: shop}
environments: {production: {}}
monitor:
  alerts:
    - {name: "<i>busy</i>", metric: requests/count, threshold: 0, operator: ">", window: 5m}
pipeline:
  stages:
    - name: main
      steps: [{name: hello, run: "echo hello from the step"}]
`, "v2.0.0")
	f.waitRun(runID, pipeline.Succeeded)
	first = f.deploy("production", "v1.0.0", "first release") // activations load the run's phoenix.yaml into the monitor
	second = f.deploy("production", "v1.1.0", "second release")
	f.deploy("staging", "v1.1.0", `<script>alert("pwned")</script>`)
	f.fireAlert("production")
	if _, err := f.admin.AddSilence(context.Background(), api.SilenceRequest{Project: "shop", Environment: "staging",
		Rule: "latency", For: "2h", Comment: "planned <b>maintenance</b>"}); err != nil {
		t.Fatal(err)
	}
	return first, second, runID
}

// fireAlert sends env requests through the edge until the monitor's
// requests/count rule fires there.
func (f *fixture) fireAlert(env string) {
	f.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+f.a.EdgeAddr().String()+"/", nil)
		req.Host = env + ".shop.localhost"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		f.a.Monitor.SampleEdge()
		if err := f.a.Monitor.Evaluate(ctx); err != nil {
			f.t.Fatal(err)
		}
		alerts, err := f.a.Monitor.Alerts(ctx, false)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, al := range alerts {
			if al.State == "firing" && al.Environment == env+".shop" {
				return
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no alert fired in %s: %+v", env, alerts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seeded is a seeded server with the admin signed in.
func seeded(t *testing.T) (f *fixture, b *browser, first, second, runID int64) {
	t.Helper()
	f = newFixture(t)
	f.addUser("admin", "", adminPW)
	first, second, runID = seed(t, f)
	b = f.browser()
	b.mustLogin("admin", adminPW)
	return f, b, first, second, runID
}

func TestEveryPageRendersForAnAdmin(t *testing.T) {
	_, b, first, second, runID := seeded(t)
	run := "/ui/runs/" + strconv.FormatInt(runID, 10)
	pages := map[string][]string{
		"/":                           {"Project <strong>shop</strong>", "v1.1.0", "deployment " + strconv.FormatInt(second, 10), "#" + strconv.FormatInt(runID, 10), "Back up now", "&lt;i&gt;busy&lt;/i&gt;</strong> in production.shop"},
		"/ui/envs/shop/production":    {"second release", "first release", "Roll back to the previous deployment (" + strconv.FormatInt(first, 10) + ")", `name="to"`, "<time datetime="},
		"/ui/runs":                    {"release v2.0.0", "succeeded"},
		run:                           {"hello", "hello from the step", "succeeded", "Run again"},
		run + "?step=main/hello":      {"Log of step main/hello", "hello from the step"},
		"/ui/alerts":                  {"latency", "planned &lt;b&gt;maintenance&lt;/b&gt;", "End now", "Silence alerts", "&lt;i&gt;busy&lt;/i&gt;", "firing"},
		"/ui/audit":                   {"deploy.activate", "The hash chain of all", "auth.login"},
		"/ui/audit?action=deploy.*":   {"deploy.activate"},
		"/ui/audit?limit=2":           {"Next page"},
		"/ui/audit?since=1h":          {"deploy.activate", `value="1h"`},
		"/ui/runs?status=succeeded":   {"release v2.0.0"},
		"/ui/envs/shop/staging":       {"&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"},
		"/ui/static/style.css":        {"prefers-color-scheme: dark"},
		"/ui/static/app.js":           {"data-confirm"},
		"/ui/runs?status=bogus":       {"query parameter status"},
		"/ui/envs/shop/nowhere":       {"no environment"},
		"/ui/no-such-page":            {"There is no such page."},
		"/ui/audit?cursor=-1":         {"want a positive number"},
		"/status/":                    {"Status"},
		"/ui/runs/999999":             {"no run"},
		"/ui/alerts?all=true":         {"Hide expired"},
		"/ui/envs/shop/production?x=": {"second release"},
	}
	for path, wants := range pages {
		t.Run(path, func(t *testing.T) {
			resp, body := b.get(path)
			if strings.HasPrefix(path, "/ui/") && !strings.Contains(path, "bogus") && !strings.Contains(path, "no") &&
				!strings.Contains(path, "999999") && !strings.Contains(path, "cursor") && resp.StatusCode != 200 {
				t.Fatalf("%d\n%s", resp.StatusCode, body)
			}
			for _, w := range wants {
				if !strings.Contains(body, w) {
					t.Errorf("no %q in\n%s", w, body)
				}
			}
			if strings.Contains(body, `<script>alert`) {
				t.Fatal("unescaped markup from the data")
			}
		})
	}
}

func TestViewerSeesNoButtonsAndTheAPIRefusesAForgedPost(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUser("vera", "viewer", "viewer-password-1")
	first, second, runID := seed(t, f)
	b := f.browser()
	b.mustLogin("vera", "viewer-password-1")
	_, page := b.get("/ui/envs/shop/production")
	if !strings.Contains(page, "second release") {
		t.Fatalf("a viewer cannot read the environment:\n%s", page)
	}
	if strings.Contains(page, "/rollback") || strings.Contains(page, "Activate") {
		t.Fatal("a viewer sees a rollback button")
	}
	if _, page := b.get("/ui/runs/" + strconv.FormatInt(runID, 10)); strings.Contains(page, "Run again") {
		t.Fatal("a viewer sees the retry button")
	}
	if _, page := b.get("/"); strings.Contains(page, "Audit log") || strings.Contains(page, "Back up now") {
		t.Fatal("a viewer sees the audit log or the backup button")
	}
	if _, page := b.get("/ui/alerts"); strings.Contains(page, "End now") || strings.Contains(page, "Silence alerts") {
		t.Fatal("a viewer sees the silence buttons")
	}
	resp, page := b.post("/ui/envs/shop/production/rollback", url.Values{"to": {strconv.FormatInt(first, 10)}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "needs deploy") && !strings.Contains(page, "not allowed") &&
		!strings.Contains(page, "permission") {
		t.Fatalf("a viewer's forged rollback: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `href="/ui/envs/shop/production">Back</a>`) || !strings.Contains(page, "Signed in as <strong>vera</strong>") {
		t.Errorf("the refusal has no way back or no navigation:\n%s", page)
	}
	if got := f.active("production"); got != second {
		t.Fatalf("a viewer's rollback moved production to %d", got)
	}
	if resp, _ := b.get("/ui/audit"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer reads the audit log: %d", resp.StatusCode)
	}
	recs := auditRecords(t, f, "access.denied")
	if len(recs) == 0 || recs[len(recs)-1].Actor != "vera" {
		t.Fatalf("the refused rollback is not in the audit log: %+v", recs)
	}
}

func auditRecords(t *testing.T, f *fixture, action string) []audit.Record {
	t.Helper()
	var page api.Page[audit.Record]
	if err := f.admin.Do(context.Background(), "GET", "/api/v1/audit?limit=1000&action="+url.QueryEscape(action), nil, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestChangesNeedTheFormsCSRFToken(t *testing.T) {
	f, b, first, second, _ := seeded(t)
	to := strconv.FormatInt(first, 10)
	cases := map[string]struct {
		form   url.Values
		header []string
	}{
		"no token":         {url.Values{"to": {to}, "csrf": {""}}, nil},
		"wrong token":      {url.Values{"to": {to}, "csrf": {strings.Repeat("0", 64)}}, nil},
		"cross-site":       {url.Values{"to": {to}, "csrf": {b.cookie("__Host-phoenix_csrf")}}, []string{"Sec-Fetch-Site", "cross-site"}},
		"foreign origin":   {url.Values{"to": {to}, "csrf": {b.cookie("__Host-phoenix_csrf")}}, []string{"Origin", "https://evil.example"}},
		"token, no cookie": {url.Values{"to": {to}, "csrf": {b.cookie("__Host-phoenix_csrf")}}, []string{"Cookie-Drop", "csrf"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			saved := b.jar["__Host-phoenix_csrf"]
			if len(c.header) > 0 && c.header[0] == "Cookie-Drop" {
				delete(b.jar, "__Host-phoenix_csrf")
				c.header = nil
			}
			resp, _ := b.do("POST", "/ui/envs/shop/production/rollback", c.form, c.header...)
			b.jar["__Host-phoenix_csrf"] = saved
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := f.active("production"); got != second {
				t.Fatalf("production moved to %d", got)
			}
		})
	}
}

func TestRollbackThroughTheForm(t *testing.T) {
	f, b, first, second, _ := seeded(t)
	// Without "to": back to the deployment before the active one.
	resp, _ := b.post("/ui/envs/shop/production/rollback", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/envs/shop/production" {
		t.Fatalf("rollback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := f.active("production"); got != first {
		t.Fatalf("production is at %d, want %d", got, first)
	}
	_, page := b.get("/ui/envs/shop/production")
	if strings.Contains(page, "Roll back to the previous deployment") {
		t.Error("the oldest deployment is active, yet the page offers to roll back further")
	}
	if !strings.Contains(page, "Activated deployment "+strconv.FormatInt(first, 10)+" (v1.0.0) on production.") {
		t.Fatalf("no flash after the rollback:\n%s", page)
	}
	if _, page := b.get("/ui/envs/shop/production"); strings.Contains(page, `class="flash"`) {
		t.Fatal("the flash is shown twice")
	}
	// With "to", as the Activate button of a row sends it: forward again.
	b.post("/ui/envs/shop/production/rollback", url.Values{"to": {strconv.FormatInt(second, 10)}})
	if got := f.active("production"); got != second {
		t.Fatalf("production is at %d, want %d", got, second)
	}
	recs := auditRecords(t, f, "deploy.rollback")
	if len(recs) != 2 || recs[0].Actor != "admin" || recs[0].Auth != "session" {
		t.Fatalf("rollbacks in the audit log: %+v", recs)
	}
}

func TestCancelARunThroughTheForm(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	id := f.release("v3.0.0", "sleep 60")
	f.waitRun(id, pipeline.Running)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	path := "/ui/runs/" + strconv.FormatInt(id, 10)
	if _, page := b.get(path); !strings.Contains(page, "Cancel run") || !strings.Contains(page, `data-refresh="5"`) {
		t.Fatalf("a running run without a cancel button:\n%s", page)
	}
	resp, _ := b.post(path+"/cancel", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	f.waitRun(id, pipeline.Cancelled)
	if resp, page := b.post(path+"/approve", nil); resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("approving a cancelled run: %d\n%s", resp.StatusCode, page)
	}
}

func TestApproveThroughTheForm(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUser("alice", "approver", "approver-password-1")
	id := f.releaseWith(`project: {name: shop}
environments: {production: {protection: {approvals: 1}}}
pipeline:
  stages:
    - name: ship
      environment: production
      steps: [{name: hello, run: "echo shipped"}]
`, "v4.0.0")
	f.waitRun(id, pipeline.Waiting)
	b := f.browser()
	b.mustLogin("alice", "approver-password-1")
	path := "/ui/runs/" + strconv.FormatInt(id, 10)
	_, page := b.get(path)
	if !strings.Contains(page, ">Approve</button>") || !strings.Contains(page, ">Reject</button>") {
		t.Fatalf("a waiting run without approve and reject buttons for an approver:\n%s", page)
	}
	if strings.Contains(page, "Cancel run") {
		t.Fatal("an approver (no deploy) sees the cancel button")
	}
	resp, _ := b.post(path+"/approve", url.Values{"comment": {"looks good"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	d := f.waitRun(id, pipeline.Succeeded, pipeline.Failed)
	if d.Status != pipeline.Succeeded || len(d.Approvals) != 1 || d.Approvals[0].Actor != "alice" || d.Approvals[0].Comment != "looks good" {
		t.Fatalf("after the approval: %s %+v", d.Status, d.Approvals)
	}
	if _, page := b.get(path); !strings.Contains(page, "Approved.") || !strings.Contains(page, "looks good") {
		t.Fatalf("the run page does not show the approval:\n%s", page)
	}
}

func TestSilenceThroughTheForm(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.deploy("production", "v1.0.0", "")
	b := f.browser()
	b.mustLogin("admin", adminPW)
	resp, _ := b.post("/ui/silences", url.Values{"project": {"shop"}, "environment": {"production"}, "for": {"30m"}, "comment": {"deploy window"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("silence: %d", resp.StatusCode)
	}
	sils, err := f.admin.Silences(context.Background(), false)
	if err != nil || len(sils) != 1 || sils[0].Comment != "deploy window" || sils[0].CreatedBy != "admin" {
		t.Fatalf("silences: %+v, %v", sils, err)
	}
	resp, page := b.post("/ui/silences", url.Values{"project": {"shop"}, "for": {"forever"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "give both project and environment") {
		t.Fatalf("a bad silence: %d\n%s", resp.StatusCode, page)
	}
	b.post("/ui/silences/"+strconv.FormatInt(sils[0].ID, 10)+"/expire", nil)
	if sils, _ := f.admin.Silences(context.Background(), false); len(sils) != 0 {
		t.Fatalf("the silence is still on: %+v", sils)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	secret := b.cookie("__Host-phoenix_session")
	resp, _ := b.post("/ui/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if b.cookie("__Host-phoenix_session") != "" || b.cookie("__Host-phoenix_csrf") != "" {
		t.Fatal("logout left the cookies")
	}
	if _, page := b.get("/ui/login"); !strings.Contains(page, "Signed out.") {
		t.Fatal("no word that the user signed out")
	}
	// The old cookie is dead at the API too, not only forgotten.
	b.jar["__Host-phoenix_session"] = &cookieT{Name: "__Host-phoenix_session", Value: secret}
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the old session still opens the overview: %d", resp.StatusCode)
	}
	b.jar["__Host-phoenix_session"] = &cookieT{Name: "__Host-phoenix_session", Value: secret}
	if resp, _ := b.get("/api/v1/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old session still works at the API: %d", resp.StatusCode)
	}
}

func TestTheAPIIsStillServed(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	resp, body := b.get("/api/v1/health")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status"`) {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.get("/api/v1/nope"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown API path: %d", resp.StatusCode)
	}
}
