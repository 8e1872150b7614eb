package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStatusAlertsAndStatusPage: phoenix status shows what a running
// server deploys, and the channels of a project with nothing deployed
// that do not load (it said nothing of them); silences are made, listed and ended through the API;
// the public status page and badges need no token.
func TestStatusAlertsAndStatusPage(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	env := []string{"PHOENIX_DATA=" + data}
	// blog's phoenix.yaml is on the server, nothing of it deployed, and
	// its channels do not load: status said nothing deployed, no more.
	s.client(t).put(t, "/api/v1/projects/blog/config", "version: 1\nproject: {name: blog}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    teams: {type: teams, url: \"secret:BLOG_TEAMS_URL\"}\n")
	const blogNotify = "  NOTIFY blog: channels not loaded (teams): notifications.channels.teams.url: cannot read secret:BLOG_TEAMS_URL"
	if r := run(t, work, env, "status"); r.code != 0 || !strings.Contains(r.stdout, "nothing deployed or monitored yet") ||
		!strings.Contains(r.stdout, blogNotify) {
		t.Fatalf("status before any deploy: %+v", r)
	}
	writeSite(t, filepath.Join(work, "site"), "monitored")
	writeFile(t, filepath.Join(work, "phoenix.yaml"), "version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n")
	if r := run(t, work, env, "deploy", "site", "--env", "production"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	r := run(t, work, env, "status", "-o", "json")
	var out struct {
		Environments []struct {
			Project, Name, Environment string
			Deployment                 int64
		}
		Replicas []any
	}
	err := json.Unmarshal([]byte(r.stdout), &out)
	st := out.Environments
	if r.code != 0 || err != nil || len(st) != 2 || st[1].Project != "blog" || st[1].Environment != "" || out.Replicas == nil ||
		st[0].Project != "shop" || st[0].Name != "production" || st[0].Environment != "production.shop" || st[0].Deployment == 0 {
		t.Fatalf("status: %+v", r)
	}
	if r := run(t, work, env, "status"); r.code != 0 || !strings.Contains(r.stdout, "shop/production") || !strings.Contains(r.stdout, blogNotify) {
		t.Fatalf("status table: %+v", r)
	}

	if r := run(t, work, env, "alerts", "silence", "--env", "production", "--for", "2h"); r.code != 2 {
		t.Fatalf("--env without --project: %+v", r)
	}
	r = run(t, work, env, "alerts", "silence", "HighLatency", "--project", "shop", "--env", "production", "--for", "2h",
		"--comment", "CDN migration", "-o", "json")
	var sil struct{ ID int64 }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &sil) != nil || sil.ID == 0 {
		t.Fatalf("silence: %+v", r)
	}
	if r := run(t, work, env, "alerts", "silences"); r.code != 0 || !strings.Contains(r.stdout, "CDN migration") ||
		!strings.Contains(r.stdout, "shop/production") {
		t.Fatalf("silences: %+v", r)
	}
	if r := run(t, work, env, "alerts", "expire", strconv.FormatInt(sil.ID, 10)); r.code != 0 {
		t.Fatalf("expire: %+v", r)
	}
	if r := run(t, work, env, "alerts"); r.code != 0 || !strings.Contains(r.stdout, "no open alerts") {
		t.Fatalf("alerts: %+v", r)
	}

	for path, ctype := range map[string]string{"/status/": "text/html", "/status/status.json": "application/json",
		"/status/badge/production.shop.svg": "image/svg+xml"} {
		resp, err := http.Get("http://" + s.api + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
