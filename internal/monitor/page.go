package monitor

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed web/status.html
var webFiles embed.FS

var pageTmpl = template.Must(template.New("status.html").Funcs(template.FuncMap{"pct": pct, "window": window, "label": InstanceLabel}).
	ParseFS(webFiles, "web/status.html"))

// window names the period an SLA figure covers at now: "24 h", "7 days",
// "30 days", or "since Nov 25 10:00 UTC" when monitoring began within it.
func window(s SLA, days int, now time.Time) string {
	period := time.Duration(days) * SLADay
	switch {
	case s.Partial(period, now):
		return "since " + s.Since.UTC().Format("Jan 2 15:04 UTC")
	case days == 1:
		return "24 h"
	}
	return fmt.Sprintf("%d days", days)
}

func pct(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmtPct(*p)
}

func fmtPct(v float64) string {
	if v >= 99.995 && v < 100 {
		return "99.99%"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".") + "%"
}

// PageOptions configure the public status page.
type PageOptions struct {
	Title    string        // default "Status"
	MaxBars  int           // endpoints that get 30-day bars (default 50)
	CacheFor time.Duration // how long a rendered page is reused (default 15s)
}

type bar struct{ Class, Label string }

// PublicHandler serves the status page ("/"), its data ("/status.json")
// and uptime badges ("/badge/<env>/<probe>.svg", "/badge/<env>.svg",
// with ?period=24h|7d|30d). Mount it with http.StripPrefix. It uses no
// JavaScript and no outside resources.
func (m *Monitor) PublicHandler(o PageOptions) http.Handler {
	if o.Title == "" {
		o.Title = "Status"
	}
	if o.MaxBars <= 0 {
		o.MaxBars = 50
	}
	if o.CacheFor <= 0 {
		o.CacheFor = 15 * time.Second
	}
	p := &page{m: m, o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.serveHTML)
	mux.HandleFunc("GET /status.json", p.serveJSON)
	mux.HandleFunc("GET /badge/", m.serveBadge)
	return mux
}

type page struct {
	m  *Monitor
	o  PageOptions
	mu sync.Mutex
	at time.Time
	b  []byte
}

func (p *page) serveJSON(w http.ResponseWriter, r *http.Request) {
	st, err := p.m.Status(r.Context())
	if err != nil {
		http.Error(w, "status unavailable", http.StatusServiceUnavailable)
		return
	}
	st = publicStatus(st)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=15")
	_ = json.NewEncoder(w).Encode(st)
}

func (p *page) serveHTML(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.m.opts.Now()
	if p.b == nil || now.Sub(p.at) > p.o.CacheFor {
		b, err := p.render(r.Context(), now)
		if err != nil {
			http.Error(w, "status unavailable", http.StatusServiceUnavailable)
			return
		}
		p.b, p.at = b, now
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=15")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(p.b)
}

func (p *page) render(ctx context.Context, now time.Time) ([]byte, error) {
	st, err := p.m.Status(ctx)
	if err != nil {
		return nil, err
	}
	st = publicStatus(st)
	bars := map[string][]bar{}
	n := 0
	day := now.UTC().Truncate(24 * time.Hour)
	for _, e := range st {
		for _, ep := range e.Endpoints {
			if n++; n > p.o.MaxBars {
				break
			}
			aggs, err := p.m.store.Buckets(ctx, "probe/"+ep.Target, day.Add(-29*24*time.Hour), day.Add(24*time.Hour), 24*time.Hour)
			if err != nil {
				return nil, err
			}
			for i, a := range aggs {
				d := day.Add(time.Duration(i-29) * 24 * time.Hour).Format("Jan 2")
				b := bar{Label: d + ": no data"}
				if a.N > 0 {
					b.Label = d + ": " + fmtPct(a.Availability())
					b.Class = map[bool]string{true: "g", false: "w"}[a.Availability() >= 99.9]
					if a.Availability() < 95 {
						b.Class = "b"
					}
				}
				bars[ep.Target] = append(bars[ep.Target], b)
			}
		}
	}
	overall, text := HealthUp, "All systems operational"
	for _, e := range st {
		switch {
		case e.Health == HealthDown:
			overall, text = HealthDown, "Major outage"
		case e.Health == HealthDegraded && overall != HealthDown:
			overall, text = HealthDegraded, "Some systems are degraded"
		case e.Health == HealthMaintenance && overall == HealthUp:
			overall, text = HealthMaintenance, "Maintenance in progress"
		}
	}
	if len(st) == 0 {
		overall, text = HealthUnknown, "No data yet"
	}
	var b strings.Builder
	err = pageTmpl.Execute(&b, map[string]any{"Title": p.o.Title, "Now": now.UTC(), "Envs": st, "Bars": bars,
		"Overall": overall, "OverallText": text})
	return []byte(b.String()), err
}
