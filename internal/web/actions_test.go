package web_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/vault"
)

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
	if !strings.Contains(page, ">Approve for production</button>") || !strings.Contains(page, ">Reject</button>") {
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
	secret, csrf := b.cookie("__Host-phoenix_session"), b.cookie("__Host-phoenix_csrf")
	b.login("admin", "a-wrong-password") // a bad attempt too, while signed in
	resp, _ := b.post("/ui/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if b.cookie("__Host-phoenix_session") != "" || b.cookie("__Host-phoenix_csrf") != "" {
		t.Fatal("logout left the cookies")
	}
	for name, secret := range map[string]string{"password": adminPW, "wrong password": "a-wrong-password", "session": secret, "csrf token": csrf} {
		if f.logs.Contains(secret) {
			t.Errorf("the server log holds the %s", name)
		}
	}
	if !f.logs.Contains("api request") {
		t.Fatal("the server log is not captured at debug level")
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

func TestBackupThroughTheForm(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "backups")
	r, err := backup.Init(context.Background(), repo, []byte("backup-key-for-tests"), backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	f := newFixtureWith(t, app.BackupOptions{Repo: repo, Key: vault.NewSecret([]byte("backup-key-for-tests")), Schedule: "off"})
	f.addUser("admin", "", adminPW)
	f.addUser("carl", "contributor", "contributor-pw-1")
	b := f.browser()
	b.mustLogin("admin", adminPW)
	resp, _ := b.post("/ui/backups", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	_, page := b.get("/")
	if !strings.Contains(page, "restore test passed.") || !strings.Contains(page, "· snapshot <code>") {
		t.Fatalf("the overview does not show the backup:\n%s", page)
	}
	// A contributor has no backup permission: no section, and a forged post is refused.
	c := f.browser()
	c.mustLogin("carl", "contributor-pw-1")
	if _, page := c.get("/"); strings.Contains(page, "Back up now") || strings.Contains(page, "Backups</h2>") {
		t.Fatal("a contributor sees the backups")
	}
	if resp, _ := c.post("/ui/backups", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a contributor's backup: %d", resp.StatusCode)
	}
}

// TestFailedDeploymentOnThePage: a deployment that failed verification is
// marked failed with its reason, offers no Activate button, and the
// rollback button names the deployment before it.
func TestFailedDeploymentOnThePage(t *testing.T) {
	f, b, _, second, _ := seeded(t)
	third := f.deploy("production", "v1.2.0", "third release")
	if _, err := f.a.Deploy.Revert(context.Background(), deploy.RevertRequest{Project: "shop", Environment: "production",
		Failed: third, Reason: "health-check/production", Actor: "phoenix-verify"}); err != nil {
		t.Fatal(err)
	}
	f.deploy("production", "v1.3.0", "fourth release")
	_, page := b.get("/ui/envs/shop/production")
	for _, want := range []string{"failed verification: health-check/production",
		"Roll back to the previous deployment (" + strconv.FormatInt(second, 10) + ")"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `name="to" value="`+strconv.FormatInt(third, 10)+`"`) {
		t.Error("the failed deployment has an Activate button")
	}
	if !strings.Contains(page, `name="to" value="`+strconv.FormatInt(second, 10)+`"`) {
		t.Error("the healthy older deployment lost its Activate button")
	}
}

// TestSigningInAgainEndsTheReplacedSession: signing in as another user in
// the same browser ends the first session on the server, not only in the
// browser (its cookie replaced, it would stay valid until it expired).
func TestSigningInAgainEndsTheReplacedSession(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUser("vera", "viewer", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	first := b.cookie("__Host-phoenix_session")
	b.mustLogin("vera", adminPW)
	if b.cookie("__Host-phoenix_session") == first {
		t.Fatal("the session cookie did not change")
	}
	b.jar["__Host-phoenix_session"] = &cookieT{Name: "__Host-phoenix_session", Value: first}
	if resp, _ := b.get("/api/v1/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin's session still works at the API after vera signed in: %d", resp.StatusCode)
	}
}
