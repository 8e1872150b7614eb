package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// TestPagesSayWhatIsNotNotified: a project whose notification channels
// did not load (their webhook URL's secret is missing), or whose channel
// refused a message for good, showed nothing of it on the dashboard; the
// overview, under the project, and the environment's page say which
// channels and why, never the webhook URL's token.
func TestPagesSayWhatIsNotNotified(t *testing.T) {
	const token = "tok-7781-not-on-the-page"
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
		w.Write([]byte("gone: " + r.URL.Path))
	}))
	t.Cleanup(hook.Close)
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.deploy("production", "v1", "pipeline run 1")
	ctx := context.Background()
	put := func(url string) {
		t.Helper()
		yaml := "version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n" +
			"notifications:\n  channels:\n    teams: {type: teams, url: \"" + url + "\"}\n"
		if _, err := f.admin.PutConfig(ctx, "shop", []byte(yaml)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	pages := func(want ...string) {
		t.Helper()
		for _, page := range []string{"/", "/ui/envs/shop/production"} {
			_, body := b.get(page)
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s does not say %q:\n%s", page, w, body)
				}
			}
			if strings.Contains(body, token) {
				t.Errorf("%s shows the webhook URL's token", page)
			}
		}
	}
	put(hook.URL + "/workflows/" + token)
	if _, err := f.a.Notify.Publish(ctx, notify.Message{ID: "m1", Event: "deploy.succeeded", Title: "live", Project: "shop", Environment: "production"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Notify.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	pages("Channel <strong>teams</strong>: deploy.succeeded not delivered", "410")

	put("secret:SHOP_TEAMS_URL")
	pages("Notification channels not loaded (teams):", "SHOP_TEAMS_URL")
}

// TestStatusSaysWhatIsNotNotifiedBeforeAnyDeploy: a project with nothing
// deployed has no environment in GET /api/v1/status, so its channels that
// did not load showed nowhere (phoenix status, the dashboard) while its
// notify-undeliverable alert fired; the status has an entry of the
// project's own with them, and the overview shows them under the project,
// with no environment row made up for it.
func TestStatusSaysWhatIsNotNotifiedBeforeAnyDeploy(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	ctx := context.Background()
	yaml := "version: 1\nproject: {name: blog}\nenvironments: {production: {}}\n" +
		"notifications:\n  channels:\n    teams: {type: teams, url: \"secret:BLOG_TEAMS_URL\"}\n"
	if _, err := f.admin.PutConfig(ctx, "blog", []byte(yaml)); err != nil {
		t.Fatal(err)
	}
	st, err := f.admin.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || !st[0].ProjectOnly() || st[0].Project != "blog" || st[0].Notifications == nil ||
		len(st[0].Notifications.Unloaded) != 1 || !strings.Contains(st[0].Notifications.Error, "BLOG_TEAMS_URL") {
		t.Fatalf("status %+v, want blog's own entry with teams not loaded", st)
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, body := b.get("/")
	if !strings.Contains(body, "Notification channels not loaded (teams):") || !strings.Contains(body, "BLOG_TEAMS_URL") {
		t.Errorf("the overview does not say blog's channels did not load:\n%s", body)
	}
	if strings.Contains(body, `href="/ui/envs/blog/"`) {
		t.Errorf("the overview shows an environment of no name for blog:\n%s", body)
	}
}
