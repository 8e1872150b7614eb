package monitor

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

var periods = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// serveBadge answers /badge/<env>/<probe>.svg or /badge/<env>.svg.
func (m *Monitor) serveBadge(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/badge/"), ".svg")
	period := r.URL.Query().Get("period")
	if period == "" {
		period = "30d"
	}
	span, okPeriod := periods[period]
	if !ok || name == "" || !okPeriod || strings.Count(name, "/") > 1 {
		http.Error(w, "not found: use /badge/<environment>/<probe>.svg?period=24h|7d|30d", http.StatusNotFound)
		return
	}
	prefix := "probe/" + name
	if !strings.Contains(name, "/") {
		prefix += "/"
	}
	now := m.opts.Now()
	a, err := m.store.Total(r.Context(), prefix, now.Add(-span), now.Add(time.Millisecond))
	if err != nil {
		http.Error(w, "badge unavailable", http.StatusServiceUnavailable)
		return
	}
	value, color := "no data", "#9f9f9f"
	if a.N > 0 {
		v := a.Availability()
		value = fmtPct(v)
		switch {
		case v >= 99.9:
			color = "#4c1"
		case v >= 99:
			color = "#97ca00"
		case v >= 95:
			color = "#dfb317"
		default:
			color = "#e05d44"
		}
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(Badge("uptime "+period, value, color)))
}

// Badge renders a flat two-part SVG badge, like shields.io's.
func Badge(label, value, color string) string {
	lw, vw := textWidth(label)+10, textWidth(value)+10
	l, v := html.EscapeString(label), html.EscapeString(value)
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s: %s</title><linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`+
		`<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`+
		`<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`,
		lw+vw, l, v, l, v, lw+vw, lw, lw, vw, color, lw+vw, lw/2, l, lw+vw/2, v)
}

// textWidth approximates Verdana 11px text width.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.:|!' ", r):
			w += 4
		case strings.ContainsRune("mwMW%", r):
			w += 10
		default:
			w += 7
		}
	}
	return w
}
