package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page: the layout, the shared partials
// and the page's own "content" block.
type pages struct {
	sets map[string]*template.Template
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

func (p *pages) execute(w io.Writer, name string, v *view) error {
	t := p.sets[name]
	if t == nil {
		return fmt.Errorf("web: no page template %q", name)
	}
	return t.Execute(w, v)
}

var funcs = template.FuncMap{
	"abs":   absTime,
	"iso":   isoTime,
	"ago":   relTime,
	"dur":   stepDuration,
	"short": short,
	"pct":   percent,
	"num":   number,
	"per":   period,
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"tone":  tone,
	"set":   func(v any) bool { return !actual(v).IsZero() },
	// seg escapes a value for one path segment (an alert id may hold '/').
	"seg": url.PathEscape,
	// grants shows a user's grants as the roles form reads them.
	"grants": grantLines,
	// where names an alert's environment as messages and the CLI do.
	"where": monitor.InstanceLabel,
}

// actual turns a *time.Time into a time.Time (zero when nil).
func actual(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func absTime(v any) string {
	t := actual(v)
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func isoTime(v any) string {
	t := actual(v)
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// relTime says how long ago (or how soon) t is, in the largest unit.
func relTime(v any) string {
	t := actual(v)
	if t.IsZero() {
		return ""
	}
	return relDuration(time.Since(t))
}

// relDuration says d (negative: in the future) in the largest unit,
// rounded to the nearest: a silence of 2h ends "2 h from now", not "1 h"
// a second after it began.
func relDuration(d time.Duration) string {
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute-time.Second/2:
		return fmt.Sprintf("%ds%s", int(d.Round(time.Second).Seconds()), suffix)
	case d < time.Hour-time.Minute/2:
		return fmt.Sprintf("%d min%s", int(d.Round(time.Minute).Minutes()), suffix)
	case d < 48*time.Hour-time.Hour/2:
		return fmt.Sprintf("%d h%s", int(d.Round(time.Hour).Hours()), suffix)
	}
	return fmt.Sprintf("%d days%s", int(math.Round(d.Hours()/24)), suffix)
}

// stepDuration is how long a step ran, or has been running.
func stepDuration(start, end time.Time) string {
	if start.IsZero() {
		return "—"
	}
	if end.IsZero() {
		return "running for " + time.Since(start).Round(time.Second).String()
	}
	d := end.Sub(start)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// period writes a rate limit's period the way phoenix.yaml does: 1m,
// 30s, 1h30m (no trailing zero units).
func period(d config.Duration) string {
	out := d.D().String()
	for _, z := range []string{"0s", "0m"} {
		if strings.HasSuffix(out, "m"+z) || strings.HasSuffix(out, "h"+z) {
			out = strings.TrimSuffix(out, z)
		}
	}
	return out
}

func short(s any) string {
	str := fmt.Sprint(s)
	str = strings.TrimPrefix(str, "sha256:")
	if len(str) > 12 {
		return str[:12]
	}
	return str
}

func percent(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f %%", *p)
}

// number shows a measured value as people read it: at most two decimals
// (66.67, not 66.66666666666667), none when it is whole.
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// tone maps a status word to one of a few CSS classes; the word itself is
// always shown too, so colour is never the only signal.
func tone(status string) string {
	switch status {
	case "succeeded", "healthy", "ok", "up", "active", "OK", "resolved", "unsealed":
		return "good"
	case "failed", "unhealthy", "down", "firing", "Denied", "Failed", "cancelled", "degraded", "expired", "sealed", "revoked",
		"failed verification", "not notified":
		return "bad"
	case "running", "queued", "waiting", "pending", "RateLimited", "silenced", "expiring", "deferred", "verification pending",
		"health check pending":
		return "warn"
	}
	return "idle"
}

// staticHandler serves the embedded assets with a content-hash ETag, so
// browsers revalidate cheaply and never run a stale script.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(sub, r.URL.Path)
		if err != nil || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.URL.Path)))
		http.ServeContent(w, r, r.URL.Path, time.Time{}, strings.NewReader(string(b)))
	})
}
