package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// statusBody is GET /api/v1/status as phoenix status -o json reads it.
func statusBody(t *testing.T, a *App) string {
	t.Helper()
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.APIURL()+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/status: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestStatusShowsWhatIsNotNotified: only the server log said that a
// project's channels did not load or that a channel refused its messages
// for good, so nobody knew nobody was being paged; GET /api/v1/status
// (phoenix status) says it for the project's environments: the channel
// whose webhook answers 404, with the event and the answer, and, once
// the channels cannot load (a secret missing), which ones and why,
// never the webhook URL's token, which the receiver echoes.
func TestStatusShowsWhatIsNotNotified(t *testing.T) {
	t.Parallel()
	const token = "tok-9931-do-not-show"
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no hook at "+r.URL.String())
	}))
	t.Cleanup(hook.Close)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	a.projects.wait()
	use := func(url string) {
		t.Helper()
		cfg, err := config.Parse([]byte("version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
			"notifications:\n  channels:\n    teams: {type: webhook, url: \""+url+"\"}\n"), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		a.useConfig("shop", cfg, nil)
	}
	use(hook.URL + "/hooks/" + token)
	if st := statusOf(t, a, "production.shop"); st.Notifications != nil {
		t.Fatalf("notifications %+v before anything failed", st.Notifications)
	}
	ctx := context.Background()
	if _, err := a.Notify.Publish(ctx, notify.Message{ID: "a1", Event: "alert.firing", Title: "Down", Project: "shop", Environment: "production"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Notify.RunDue(ctx); err != nil { // after the server's own pass, if it took the delivery
		t.Fatal(err)
	}
	st := statusOf(t, a, "production.shop")
	if h := st.Notifications; h == nil || len(h.Failing) != 1 || h.Failing[0].Channel != "teams" ||
		h.Failing[0].Event != "alert.firing" || !strings.Contains(h.Failing[0].Error, "404") || h.Failing[0].FailedAt.IsZero() {
		t.Fatalf("status' notifications %+v, want teams' alert.firing refused with 404", h)
	}
	if body := statusBody(t, a); strings.Contains(body, token) {
		t.Fatalf("GET /api/v1/status shows the webhook URL's token:\n%s", body)
	}

	use("secret:SHOP_TEAMS_URL")
	st = statusOf(t, a, "production.shop")
	if h := st.Notifications; h == nil || len(h.Unloaded) != 1 || h.Unloaded[0] != "teams" || !strings.Contains(h.Error, "SHOP_TEAMS_URL") {
		t.Fatalf("status' notifications %+v, want teams not loaded for want of SHOP_TEAMS_URL", h)
	}
}
