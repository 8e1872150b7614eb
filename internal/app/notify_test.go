package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestFirstReleaseFailureReachesItsChannels: a project's very first
// release, failing before it deploys anything, is announced on the
// channels its phoenix.yaml names (they were loaded only when something
// was activated); a channel that cannot load (its webhook URL's secret is
// missing) makes the notify step say so instead of "sent".
func TestFirstReleaseFailureReachesItsChannels(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	t.Cleanup(hook.Close)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})

	release := func(name, url, version string) string {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o755)
		yaml := "version: 1\nproject: {name: " + name + "}\nenvironments: {staging: {}}\n" +
			"notifications:\n  channels:\n    hook: {type: webhook, url: \"" + url + "\"}\n" +
			"pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: compile, run: exit 3}\n" +
			"    - name: tell\n      needs: [build]\n      steps:\n" +
			"        - {name: alert, uses: notify, if: failure(), with: {channel: hook, event: release.failed, severity: 0}}\n"
		if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: version, Actor: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		if err := a.Pipeline.Logs(context.Background(), run.ID, pipeline.LogOptions{Follow: true}, &log); err != nil {
			t.Fatal(err)
		}
		return log.String()
	}

	log := release("shop", hook.URL+"/hook", "v1.0.0")
	if !strings.Contains(log, "tell/alert | sent release.failed") {
		t.Fatalf("the notify step did not send:\n%s", log)
	}
	if body := <-got; !strings.Contains(body, "release.failed") || !strings.Contains(body, "shop") {
		t.Fatalf("webhook got %s", body)
	}

	log = release("blog", "secret:BLOG_HOOK_URL", "v1.0.0")
	if !strings.Contains(log, "tell/alert | warning: release.failed (severity 0) was not sent: the project's notification channels did not load") ||
		!strings.Contains(log, "BLOG_HOOK_URL") {
		t.Fatalf("the notify step does not say why nothing was sent:\n%s", log)
	}
}

// TestAlertsReachOnlyTheirProjectsChannels: an alert names only the
// monitor's environment (production.shop), no project; it goes to shop's
// channels and not to blog's, while the server's own alerts (the host's)
// go to both.
func TestAlertsReachOnlyTheirProjectsChannels(t *testing.T) {
	t.Parallel()
	got := map[string]chan notify.Message{"shop": make(chan notify.Message, 8), "blog": make(chan notify.Message, 8)}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got[strings.TrimPrefix(r.URL.Path, "/")] <- m
	}))
	t.Cleanup(hook.Close)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	for _, p := range []string{"shop", "blog"} {
		cfg, err := config.Parse([]byte("version: 1\nproject: {name: "+p+"}\nenvironments: {production: {}}\n"+
			"notifications:\n  channels:\n    hook: {type: webhook, url: \""+hook.URL+"/"+p+"\"}\n"), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		a.useConfig(p, cfg, nil)
	}
	publish := func(id, env string) {
		t.Helper()
		if _, err := a.Notify.Publish(context.Background(), notify.Message{ID: id, Event: "alert.firing", Title: id, Environment: env}); err != nil {
			t.Fatal(err)
		}
	}
	publish("shop-alert", "production.shop")
	if m := <-got["shop"]; m.ID != "shop-alert" {
		t.Fatalf("shop's channel got %q first, want shop-alert", m.ID)
	}
	publish("blog-alert", "production.blog")
	if m := <-got["blog"]; m.ID != "blog-alert" {
		t.Fatalf("blog's channel got %q, an alert of another project, before its own", m.ID)
	}
	publish("host-alert", "")
	for _, p := range []string{"shop", "blog"} {
		if m := <-got[p]; m.ID != "host-alert" {
			t.Fatalf("%s's channel got %q, want the server's host-alert", p, m.ID)
		}
	}
}

// TestReleaseSucceededLinksTheSites: a release's announcement links the
// environments it went to at their public addresses (the seed's success
// message "includes production URLs"): each one's domains, else its name
// under --sites-domain; only deploy.succeeded, which a pipeline's own
// health checks take the place of, linked them before.
func TestReleaseSucceededLinksTheSites(t *testing.T) {
	t.Parallel()
	got := make(chan notify.Message, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message // the webhook's body is the message, with a version
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got <- m
	}))
	t.Cleanup(hook.Close)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-", SitesDomain: "apps.example.com", PublicURL: "https://phoenix.example.com"})
	dir := filepath.Join(t.TempDir(), "shop")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<title>shop</title>"), 0o644)
	yaml := "version: 1\nproject: {name: shop}\nbuild: {output: .}\nchecks: {audit: {enabled: false}, licenses: {enabled: false}, sbom: {enabled: false}}\n" +
		"environments:\n  staging: {}\n  production: {domains: [www.shop.example, shop.example]}\n" +
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"" + hook.URL + "/hook\", events: [release.succeeded]}\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: "v1.0.0", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := a.Pipeline.Logs(context.Background(), run.ID, pipeline.LogOptions{Follow: true}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "notify | sent release.succeeded") {
		t.Fatalf("the release was not announced:\n%s", log.String())
	}
	m := <-got
	want := []notify.Link{{Title: "staging", URL: a.EdgeURL("shop", "staging")},
		{Title: "production: www.shop.example", URL: "https://www.shop.example/"},
		{Title: "production: shop.example", URL: "https://shop.example/"},
		{Title: "Run 1", URL: "https://phoenix.example.com/ui/runs/1"}} // with PublicURL, the run's page
	if !slices.Equal(m.Links, want) || !strings.Contains(want[0].URL, "staging.shop.apps.example.com") {
		t.Fatalf("release.succeeded links %+v, want %+v", m.Links, want)
	}
}
