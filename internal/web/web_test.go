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
	_, tab1 := b.get("/ui/login")
	_, tab2 := b.get("/ui/login")
	if n1, n2 := nonceRe.FindStringSubmatch(tab1), nonceRe.FindStringSubmatch(tab2); n1 == nil || n2 == nil || n1[1] != n2[1] {
		t.Fatal("a second sign-in tab invalidates the first")
	}
	b.jar["__Host-phoenix_login"].Value = "not-a-nonce"
	if _, page := b.get("/ui/login"); nonceRe.FindStringSubmatch(page) == nil || b.cookie("__Host-phoenix_login") == "not-a-nonce" {
		t.Fatal("a malformed nonce cookie is echoed into the form")
	}
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
		"/":                           {"Project <strong>shop</strong>", "v1.1.0", "deployment " + strconv.FormatInt(second, 10), "#" + strconv.FormatInt(runID, 10), "This server takes no backups", "&lt;i&gt;busy&lt;/i&gt;</strong> in shop/production"},
		"/ui/envs/shop/production":    {"second release", "first release", "Roll back to the previous deployment (" + strconv.FormatInt(first, 10) + ")", `name="to"`, "<time datetime="},
		"/ui/runs":                    {"release v2.0.0", "succeeded"},
		run:                           {"hello", "hello from the step", "succeeded", "Run again"},
		run + "?step=main/hello":      {"Log of step main/hello", "hello from the step"},
		"/ui/alerts":                  {"<td>shop/production</td>", "latency", "planned &lt;b&gt;maintenance&lt;/b&gt;", "End now", "Silence alerts", "&lt;i&gt;busy&lt;/i&gt;", "firing"},
		"/ui/audit":                   {"deploy.activate", "The hash chain of all", "auth.login", "Records, newest first"},
		"/ui/audit?order=asc":         {"Records, oldest first", `href="/ui/audit"`},
		"/ui/audit?action=deploy.*":   {"deploy.activate"},
		"/ui/audit?limit=2":           {"Next page"},
		"/ui/audit?since=1h":          {"deploy.activate", `value="1h"`},
		"/ui/runs?status=succeeded":   {"release v2.0.0"},
		"/ui/runs?status=interrupted": {"<option selected>interrupted</option>"},
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
