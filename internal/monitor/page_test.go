package monitor

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStatusPageAndBadges(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	ctx := context.Background()
	home := Target{Name: "home", Environment: "production", URL: "https://www.example.com/"}
	evil := Target{Name: "<script>x</script>", Environment: "staging", URL: "https://staging.example.com/"}
	for i := range 100 {
		clock.Add(time.Minute)
		m.record(home, Result{Target: home.ID(), Name: home.Name, Environment: "production", Time: clock.Now(), Success: i != 50, Duration: 30 * time.Millisecond})
		m.record(evil, Result{Target: evil.ID(), Name: evil.Name, Environment: "staging", Time: clock.Now(), Success: false, Error: "connection refused"})
	}
	if err := m.flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Environment != "production" || st[0].Health != HealthUp || *st[0].SLA.Day != 99 || st[1].Health != HealthDown {
		b, _ := json.Marshal(st)
		t.Fatalf("status %s", b)
	}
	h := m.PublicHandler(PageOptions{Title: "Phoenix VC status"})
	get := func(path string) (*http.Response, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(body)
	}
	resp, body := get("/")
	for _, want := range []string{"Phoenix VC status", "Major outage", "production", "home", "99%", "unreachable", "&lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("page has a script or loads an outside resource")
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("no CSP")
	}
	cases := []struct {
		path, status, value string
	}{
		{"/badge/production/home.svg", "200", "99%"},
		{"/badge/production.svg?period=24h", "200", "99%"},
		{"/badge/staging.svg", "200", "0%"},
		{"/badge/nope/none.svg", "200", "no data"},
		{"/badge/production/home.svg?period=1y", "404", ""},
		{"/badge/a/b/c.svg", "404", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(tc.path)
			if got := resp.Status[:3]; got != tc.status {
				t.Fatalf("status %s", resp.Status)
			}
			if tc.status != "200" {
				return
			}
			if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, ">"+tc.value+"<") {
				t.Errorf("badge %s", body)
			}
			if err := xml.Unmarshal([]byte(body), new(struct{})); err != nil {
				t.Errorf("badge is not XML: %v", err)
			}
		})
	}
	_, js := get("/status.json")
	if !strings.Contains(js, `"health":"down"`) {
		t.Errorf("json %s", js)
	}
}

// TestStatusPageNamesProjectAndEnvironment: the public page heads each
// environment as its visitors know it, "shop/production", not by the
// monitor's edge name "production.shop".
func TestStatusPageNamesProjectAndEnvironment(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	home := Target{Name: "home", Environment: "production.shop", URL: "https://www.example.com/"}
	clock.Add(time.Minute)
	m.record(home, Result{Target: home.ID(), Name: home.Name, Environment: home.Environment, Time: clock.Now(), Success: true})
	if err := m.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.PublicHandler(PageOptions{Title: "status"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if !strings.Contains(body, "<span>shop/production</span>") || strings.Contains(body, "production.shop") {
		t.Fatalf("page heads the environment otherwise:\n%s", body)
	}
}
