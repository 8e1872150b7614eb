package edge

import (
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
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
func (w *benchWriter) BodyBytes() int64                               { return w.n }
func (w *benchWriter) SendFile(_ *os.File, _, n int64, _ bool) (int64, error) {
	w.n += n
	return n, nil
}

// factsWriter is benchWriter with the h1.HeadFacts the lean loop's
// writer gives: what its parser saw of the request.
type factsWriter struct {
	benchWriter
	cond bool
	peer netip.AddrPort
}

func (w *factsWriter) Conditional() bool    { return w.cond }
func (w *factsWriter) Peer() netip.AddrPort { return w.peer }

// BenchmarkServeFast: one request through Handler.ServeFast as the lean
// loop makes it (parsed head, reused header map), for a precompressed
// asset sent with sendfile, the HTML page and the SPA fallback.
func BenchmarkServeFast(b *testing.B) {
	h := benchHandler(b, benchFiles(), nil)
	serveFastCases(b, h, nil)
}

// benchFiles is the site of BenchmarkServeFast.
func benchFiles() map[string]string {
	js := strings.Repeat("console.log(1);", 2000)
	return map[string]string{
		"index.html":                  "<!doctype html><title>app</title>",
		"assets/app.1e4f7ff4d6.js":    js,
		"assets/app.1e4f7ff4d6.js.gz": js[:20000], // content is not checked
		"staticwebapp.config.json":    `{"navigationFallback":{"rewrite":"/index.html","exclude":["/assets/*"]}}`,
	}
}

// serveFastCases runs BenchmarkServeFast's requests against h, reporting
// the share of records l dropped (nil: no access log).
func serveFastCases(b *testing.B, h *Handler, l *AccessLog) {
	for _, c := range []struct{ name, path, enc string }{
		{"js-gz", "/assets/app.1e4f7ff4d6.js", "gzip"},
		{"html", "/", ""},
		{"fallback", "/no/such/page", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "http://localhost"+c.path, nil)
			r.RemoteAddr = "127.0.0.1:40000"
			r.RequestURI = c.path
			r.Header["User-Agent"] = []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
			if c.enc != "" {
				r.Header["Accept-Encoding"] = []string{c.enc}
			}
			before := l.Dropped()
			serveFastLoop(b, h, r)
			if l != nil {
				b.ReportMetric(float64(l.Dropped()-before)/float64(b.N), "dropped/op")
			}
		})
	}
}

// BenchmarkServeFastAccessLog is BenchmarkServeFast with the access log
// on, written to a file by its goroutine; dropped/op is the share of
// records the writer could not keep up with.
func BenchmarkServeFastAccessLog(b *testing.B) {
	l, err := OpenAccessLog(filepath.Join(b.TempDir(), "access.log"), AccessLogOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	h := benchHandlerOpts(b, benchFiles(), Options{AccessLog: l})
	serveFastCases(b, h, l)
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
	w := &factsWriter{benchWriter: benchWriter{h: http.Header{}, t: time.Now()}, cond: h1.Conditional(r.Header),
		peer: netip.MustParseAddrPort(r.RemoteAddr)}
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
	return newBenchHandler(b, files, policy, Options{})
}

// benchHandlerOpts serves files as "prod", the fallback, with opts.
func benchHandlerOpts(b testing.TB, files map[string]string, opts Options) *Handler {
	return newBenchHandler(b, files, nil, opts)
}

func newBenchHandler(b testing.TB, files map[string]string, policy *Policy, opts Options) *Handler {
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
	h, err := NewHandler(hosts, opts)
	if err != nil {
		b.Fatal(err)
	}
	return h
}
