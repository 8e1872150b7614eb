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
