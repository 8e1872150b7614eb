package edge

import (
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// benchWriter is the lean loop's ResponseWriter without the socket: it
// takes header blocks and file sends and drops them, so BenchmarkServeFast
// measures the handler's own work per request.
type benchWriter struct {
	h      http.Header
	status int
	n      int64
	t      time.Time
}

func (w *benchWriter) Header() http.Header                            { return w.h }
func (w *benchWriter) WriteHeader(status int)                         { w.status = status }
func (w *benchWriter) Write(b []byte) (int, error)                    { w.n += int64(len(b)); return len(b), nil }
func (w *benchWriter) WriteHeaderBlock(status int, _ int64, _ []byte) { w.status = status }
func (w *benchWriter) Received() time.Time                            { return w.t }
func (w *benchWriter) SendFile(_ *os.File, _, n int64, _ bool) (int64, error) {
	w.n += n
	return n, nil
}

// BenchmarkServeFast: one request through Handler.ServeFast as the lean
// loop makes it (parsed head, reused header map), for a precompressed
// asset sent with sendfile, the HTML page and the SPA fallback.
func BenchmarkServeFast(b *testing.B) {
	js := strings.Repeat("console.log(1);", 2000)
	h := benchHandler(b, map[string]string{
		"index.html":                  "<!doctype html><title>app</title>",
		"assets/app.1e4f7ff4d6.js":    js,
		"assets/app.1e4f7ff4d6.js.gz": js[:20000], // content is not checked
		"staticwebapp.config.json":    `{"navigationFallback":{"rewrite":"/index.html","exclude":["/assets/*"]}}`,
	}, nil)
	for _, c := range []struct{ name, path, enc string }{
		{"js-gz", "/assets/app.1e4f7ff4d6.js", "gzip"},
		{"html", "/", ""},
		{"fallback", "/no/such/page", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "http://localhost"+c.path, nil)
			r.RemoteAddr = "127.0.0.1:40000"
			if c.enc != "" {
				r.Header["Accept-Encoding"] = []string{c.enc}
			}
			serveFastLoop(b, h, r)
		})
	}
}

// BenchmarkServeFastWithPolicy: the HTML page of BenchmarkServeFast for
// an environment with a project policy: two header rules (one matching),
// a rate limit the loopback client is exempt from and a firewall that
// matches nothing.
func BenchmarkServeFastWithPolicy(b *testing.B) {
	h := benchHandler(b, map[string]string{"index.html": "<!doctype html><title>app</title>"}, &Policy{
		Headers: []PolicyRule{{Name: "hsts", Scheme: "https", Set: map[string]string{"Strict-Transport-Security": "max-age=60"}},
			{Name: "frame", Path: "/*", Set: map[string]string{"X-Frame-Options": "DENY"}}},
		RateLimit: &RateLimit{Requests: 10, Per: time.Second, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Firewall:  pathFirewall{},
	})
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	serveFastLoop(b, h, r)
}

// serveFastLoop is the measured loop: r through h.ServeFast, answered 200.
func serveFastLoop(b *testing.B, h *Handler, r *http.Request) {
	w := &benchWriter{h: http.Header{}, t: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		if !h.ServeFast(w, r) || w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// benchHandler serves files as "prod", the fallback, with policy (nil: none).
func benchHandler(b *testing.B, files map[string]string, policy *Policy) *Handler {
	site, err := NewDirSite(b.Context(), writeTree(b, files))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { site.Close() })
	hosts := NewHosts()
	hosts.SetSite("prod", site)
	hosts.SetFallback("prod")
	if err := hosts.SetPolicy("prod", policy); err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(hosts, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return h
}
