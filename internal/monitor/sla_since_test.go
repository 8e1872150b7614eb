package monitor

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSLASinceFirstProbe: an environment monitored for two days has its
// SLA's window start at its first probe (Since, in the JSON too) and the
// status page says "since", not "30 days"; one monitored for longer than
// 30 days has no Since.
func TestSLASinceFirstProbe(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	ctx := context.Background()
	start := clock.Now()
	first := start.Add(-2*24*time.Hour + 17*time.Minute) // 2026-11-23 10:17
	for at := first; at.Before(start); at = at.Add(time.Hour) {
		probePoint(m, "production.shop", "home", at, true, 30)
	}
	for at := start.Add(-40 * 24 * time.Hour); at.Before(start); at = at.Add(6 * time.Hour) {
		probePoint(m, "production.blog", "home", at, true, 30)
	}
	for _, env := range []string{"production.shop", "production.blog"} {
		tgt := Target{Name: "home", Environment: env}
		m.record(tgt, Result{Target: tgt.ID(), Name: "home", Environment: env, Time: start, Success: true})
	}
	if err := m.flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 2 {
		t.Fatalf("status %+v (%v)", st, err)
	}
	blog, shop := st[0], st[1]
	if !shop.SLA.Since.Equal(first) || !shop.Endpoints[0].SLA.Since.Equal(first) {
		t.Errorf("shop's SLA since %v, its endpoint's %v, want the first probe %v", shop.SLA.Since, shop.Endpoints[0].SLA.Since, first)
	}
	if !blog.SLA.Since.IsZero() {
		t.Errorf("blog, monitored for 40 days, has its SLA since %v", blog.SLA.Since)
	}
	if shop.SLA.Partial(SLADay, start) || !shop.SLA.Partial(SLAWeek, start) || !shop.SLA.Partial(SLAMonth, start) {
		t.Error("shop's 24 h figure should be whole, its 7- and 30-day figures partial")
	}
	h := m.PublicHandler(PageOptions{})
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return string(b)
	}
	page := get("/")
	shopPart, blogPart := page[strings.Index(page, "shop/production"):], page[:strings.Index(page, "shop/production")]
	if !strings.Contains(shopPart, "Uptime 24 h") || !strings.Contains(shopPart, "since Nov 23 10:17 UTC") || strings.Contains(shopPart, "<td>30 days</td>") {
		t.Errorf("shop's section does not say since when:\n%s", shopPart)
	}
	if !strings.Contains(blogPart, "<td>30 days</td>") || strings.Contains(blogPart, "since") {
		t.Errorf("blog's section:\n%s", blogPart)
	}
	if js := get("/status.json"); !strings.Contains(js, `"since":"2026-11-23T10:17:00Z"`) {
		t.Errorf("status.json has no since: %s", js)
	}
}
