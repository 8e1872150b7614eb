package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// cardActions is what a Teams Workflows receiver on 127.0.0.1 got: each
// card's subtitle (its second TextBlock: "CRITICAL · deploy.failed · …")
// and the URLs of its Action.OpenUrl buttons.
type cardActions struct {
	subtitle string
	urls     []string
}

func newTeamsReceiver(t *testing.T) (*httptest.Server, chan cardActions) {
	got := make(chan cardActions, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg struct {
			Attachments []struct {
				Content struct {
					Body    []struct{ Text string }      `json:"body"`
					Actions []struct{ Type, URL string } `json:"actions"`
				} `json:"content"`
			} `json:"attachments"`
		}
		if err := json.Unmarshal(b, &msg); err != nil || len(msg.Attachments) != 1 || len(msg.Attachments[0].Content.Body) < 2 {
			t.Errorf("not a Teams card: %v %s", err, b)
			return
		}
		c := cardActions{subtitle: msg.Attachments[0].Content.Body[1].Text}
		for _, a := range msg.Attachments[0].Content.Actions {
			if a.Type == "Action.OpenUrl" {
				c.urls = append(c.urls, a.URL)
			}
		}
		got <- c
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// recvCard waits for the card whose subtitle names event.
func recvCard(t *testing.T, got chan cardActions, event string) cardActions {
	t.Helper()
	for {
		c := recv(t, got, "a card of "+event)
		if strings.Contains(c.subtitle, " · "+event+" · ") {
			return c
		}
	}
}

// TestMonitorMessagesLinkTheDashboard: with --public-url only a pipeline
// run's messages linked the dashboard; a deployment's verdict and an
// alert do too now (the environment's page; the alerts page, where an
// alert is acknowledged), as buttons on a Teams card; without a public
// URL they link no dashboard.
func TestMonitorMessagesLinkTheDashboard(t *testing.T) {
	t.Parallel()
	for _, public := range []string{"https://phoenix.example.com", ""} {
		t.Run("public="+public, func(t *testing.T) {
			hook, got := newTeamsReceiver(t)
			a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-", VerifySoak: 200 * time.Millisecond, PublicURL: public})
			cfg, err := config.Parse([]byte("version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
				"monitor:\n  alerts:\n    - {name: busy, metric: requests/count, threshold: 0, operator: \">\", window: 5m}\n"+
				"notifications:\n  channels:\n    teams: {type: teams, url: \""+hook.URL+"/workflows/tok\"}\n"), "phoenix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			a.useConfig("shop", cfg, nil)
			deploySite(t, a, "production", "v1", "", noHomePage) // fails its verification, nothing to roll back to
			env := public + "/ui/envs/shop/production"
			want := map[string][]string{"deploy.failed": {env}, "alert.firing": {public + "/ui/alerts", env}}
			if public == "" {
				want = map[string][]string{"deploy.failed": nil, "alert.firing": nil}
			}
			if c := recvCard(t, got, "deploy.failed"); !slices.Equal(dashboard(c.urls), want["deploy.failed"]) {
				t.Errorf("deploy.failed's buttons %q, want the dashboard's %q", c.urls, want["deploy.failed"])
			}
			a.projects.wait()
			fireBusy(t, a)
			if c := recvCard(t, got, "alert.firing"); !slices.Equal(dashboard(c.urls), want["alert.firing"]) {
				t.Errorf("alert.firing's buttons %q, want the dashboard's %q", c.urls, want["alert.firing"])
			}
		})
	}
}

// dashboard keeps the URLs that open a dashboard's page.
func dashboard(urls []string) []string {
	var out []string
	for _, u := range urls {
		if strings.Contains(u, "/ui/") {
			out = append(out, u)
		}
	}
	return out
}

// fireBusy sends requests to shop's production through the edge until
// its requests/count rule fires.
func fireBusy(t *testing.T, a *App) {
	t.Helper()
	ctx := context.Background()
	for range 200 {
		req, _ := http.NewRequest("GET", "http://"+a.EdgeAddr().String()+"/", nil)
		req.Host = "production.shop.localhost"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		a.Monitor.SampleEdge()
		if err := a.Monitor.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		alerts, err := a.Monitor.Alerts(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range alerts {
			if al.State == "firing" && al.Environment == "production.shop" {
				return
			}
		}
	}
	t.Fatal("busy did not fire")
}

// TestServerAlertsLinkTheAlertsPage: the server's alerts, a project's
// notify-undeliverable among them, are no environment's: they link the
// alerts page only.
func TestServerAlertsLinkTheAlertsPage(t *testing.T) {
	t.Parallel()
	const public = "https://phoenix.example.com"
	for _, m := range []notify.Message{
		{Event: "alert.firing", Environment: "tls:www.example.com"},
		{Event: "alert.firing", Project: "shop", Environment: monitor.UndeliverableInstance("shop", "teams")},
	} {
		if got := dashboardLinks(public, m); len(got) != 1 || got[0].URL != public+"/ui/alerts" {
			t.Errorf("%s links %+v, want the alerts page only", m.Environment, got)
		}
	}
}
