package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// accessLine is one access log line as JSON decodes it.
type accessLine struct {
	Time       string  `json:"time"`
	Env        string  `json:"env"`
	Host       string  `json:"host"`
	Method     string  `json:"method"`
	Path       string  `json:"path"`
	Query      bool    `json:"query"`
	Proto      string  `json:"proto"`
	Status     int     `json:"status"`
	Bytes      int64   `json:"bytes"`
	DurationMS float64 `json:"duration_ms"`
	Client     string  `json:"client"`
	UserAgent  string  `json:"user_agent"`
	Referer    string  `json:"referer"`
	TLS        bool    `json:"tls"`
}

// readAccessLines decodes every line of the file at path (none if it is
// missing), failing on a line that is not a JSON object.
func readAccessLines(t *testing.T, path string) []accessLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []accessLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l accessLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// waitLines polls path until it holds n lines (the log flushes often in
// these tests) and returns them.
func waitLines(t *testing.T, path string, n int) []accessLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := readAccessLines(t, path)
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				t.Fatalf("%s has %d lines, want %d", path, len(lines), n)
			}
			return lines
		}
		time.Sleep(5 * time.Millisecond) // polling the file with a deadline
	}
}

// openTestLog opens an access log in a temp dir that flushes every 5ms.
func openTestLog(t *testing.T, o AccessLogOptions) (*AccessLog, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "access.log")
	if o.FlushEvery == 0 {
		o.FlushEvery = 5 * time.Millisecond
	}
	l, err := OpenAccessLog(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

const (
	secretCookie = "SECRET-COOKIE-1f3a"
	secretAuth   = "SECRET-AUTH-77b2"
	secretQuery  = "SECRET-QUERY-c41d"
	secretProbe  = "SECRET-PROBE-9e0c"
	secretRef    = "SECRET-REF-5a6b"
)

// TestAccessLogStatuses: real servers on 127.0.0.1, the lean loop (plain
// HTTP) and net/http (TLS, HTTP/2), each answer 200, 304, 404, 403
// (ip_allow) and 429; each answer has its line with the right fields, and
// none of the request's secrets (cookie, Authorization, query, probe
// header, the referer's query) reach the file.
func TestAccessLogStatuses(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{})
	e := newTestEdge(t, mustSite(t, basicSite), Options{AccessLog: l, RateLimit: 0.001, RateBurst: 6, ProbeToken: "probe-token"})
	cert, key, pool := selfSigned(t)
	tlsURL := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key})
	secrets := map[string]string{
		"Cookie": "session=" + secretCookie, "Authorization": "Bearer " + secretAuth,
		"X-Phoenix-Probe": secretProbe, "User-Agent": "phoenix-test/1",
		"Referer": "https://ref.example/page?ref=" + secretRef + "#frag",
	}
	plainTr := &http.Transport{DisableCompression: true}
	tlsTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer plainTr.CloseIdleConnections()
	defer tlsTr.CloseIdleConnections()
	first := doWith(t, plainTr, e.URL+"/?token="+secretQuery, secrets)
	etag := first.Header.Get("Etag")
	type step struct {
		tr    *http.Transport
		url   string
		hdr   map[string]string
		allow string
		want  int
	}
	var steps []step
	for _, base := range []string{e.URL, tlsURL} {
		tr := plainTr
		if base == tlsURL {
			tr = tlsTr
			steps = append(steps, step{tr, base + "/?token=" + secretQuery, secrets, "", 200})
		}
		steps = append(steps, step{tr, base + "/", map[string]string{"If-None-Match": etag}, "", 304},
			step{tr, base + "/missing", nil, "", 404}, step{tr, base + "/", nil, "192.0.2.0/24", 403})
	}
	steps = append(steps, step{plainTr, e.URL + "/", nil, "", 429}, step{tlsTr, tlsURL + "/", nil, "", 429})
	statuses := []int{first.StatusCode}
	for _, c := range steps {
		var allow []netip.Prefix
		if c.allow != "" {
			allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
		}
		if err := e.hosts.SetAllowedIPs("prod", allow); err != nil {
			t.Fatal(err)
		}
		if r := doWith(t, c.tr, c.url, c.hdr); r.StatusCode != c.want {
			t.Fatalf("GET %s = %d, want %d", c.url, r.StatusCode, c.want)
		}
		statuses = append(statuses, c.want)
	}
	lines := waitLines(t, path, len(statuses))
	for i, ln := range lines {
		wantTLS := i >= 4 && i != 8
		wantProto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[wantTLS]
		if ln.Status != statuses[i] || ln.Env != "prod" || ln.Method != "GET" || ln.Client != "127.0.0.1" ||
			ln.TLS != wantTLS || ln.Proto != wantProto || !strings.HasPrefix(ln.Host, "127.0.0.1:") {
			t.Errorf("line %d: %+v, want status %d env prod GET from 127.0.0.1 over %s", i, ln, statuses[i], wantProto)
		}
		if _, err := time.Parse(time.RFC3339, ln.Time); err != nil || !strings.HasSuffix(ln.Time, "Z") || len(ln.Time) != len("2006-01-02T15:04:05.000Z") {
			t.Errorf("line %d: time %q is not RFC 3339 UTC with ms", i, ln.Time)
		}
		if ln.DurationMS < 0 || ln.DurationMS > 10_000 {
			t.Errorf("line %d: duration_ms %v", i, ln.DurationMS)
		}
	}
	for _, i := range []int{0, 4} { // the requests with secrets, plain and TLS
		if ln := lines[i]; ln.Path != "/" || !ln.Query || ln.UserAgent != "phoenix-test/1" || ln.Referer != "https://ref.example/page" ||
			ln.Bytes != int64(len(basicSite["index.html"])) {
			t.Errorf("line %d: %+v", i, ln)
		}
	}
	if lines[1].Bytes != 0 || lines[2].Path != "/missing" || lines[2].Query || lines[7].Path != "/" {
		t.Errorf("304/404/403 lines: %+v %+v %+v", lines[1], lines[2], lines[7])
	}
	for i, want := range map[int]string{1: "", 2: "Not Found\n", 3: "forbidden\n", 5: "", 6: "Not Found\n",
		7: "forbidden\n", 8: "too many requests\n", 9: "too many requests\n"} {
		if lines[i].Bytes != int64(len(want)) {
			t.Errorf("line %d (%d): bytes %d, want %d", i, lines[i].Status, lines[i].Bytes, len(want))
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secretCookie, secretAuth, secretQuery, secretProbe, secretRef, "Bearer", "session=", "frag"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the access log holds %q:\n%s", s, data)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("access log mode %v (%v), want 0640", st.Mode().Perm(), err)
	}
}

// doWith sends GET url with hdr through tr and returns the response, its
// body read and closed.
func doWith(t *testing.T, tr *http.Transport, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAccessLogAdminAndUnknownHost: the admin host's answers and unknown
// hosts have lines too, for environment "".
func TestAccessLogAdminAndUnknownHost(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{})
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, basicSite))
	h, err := NewHandler(hosts, Options{AccessLog: l})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEdge{URL: newServer(t, h), h: h, hosts: hosts}
	if r := e.get(t, "/x", map[string]string{"Host": "nobody.example"}); r.status != 404 {
		t.Fatalf("unknown host: %d", r.status)
	}
	m := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost})
	if m.status != 200 || !strings.Contains(m.body, "phoenix_edge_access_log_dropped_total 0\n") {
		t.Fatalf("metrics: %d\n%s", m.status, m.body)
	}
	lines := waitLines(t, path, 2)
	if lines[0].Env != "" || lines[0].Host != "nobody.example" || lines[0].Status != 404 {
		t.Errorf("unknown host line: %+v", lines[0])
	}
	if lines[1].Host != DefaultAdminHost || lines[1].Path != "/metrics" || lines[1].Status != 200 || lines[1].Bytes != int64(len(m.body)) {
		t.Errorf("admin line: %+v (body %d bytes)", lines[1], len(m.body))
	}
}

// TestAccessLogFlushOnClose: with a flush interval far away, Close writes
// every line of the requests answered before it.
func TestAccessLogFlushOnClose(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{FlushEvery: time.Hour})
	e := newTestEdge(t, mustSite(t, basicSite), Options{AccessLog: l})
	const n = 50
	for i := range n {
		if r := e.get(t, "/?i="+string(rune('a'+i%26)), nil); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	}
	if got := readAccessLines(t, path); len(got) != 0 {
		t.Fatalf("%d lines before Close: the buffer was flushed early", len(got))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAccessLines(t, path); len(got) != n {
		t.Fatalf("%d lines after Close, want %d", len(got), n)
	}
	if err := l.Reopen(); err == nil {
		t.Fatal("Reopen after Close succeeded")
	}
}

// TestAccessLogHTTPSRedirect: the plain-HTTP front's redirects to HTTPS
// are logged as well (net/http answers them).
func TestAccessLogHTTPSRedirect(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{})
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, basicSite))
	hosts.SetFallback("prod")
	h, err := NewHandler(hosts, Options{AccessLog: l})
	if err != nil {
		t.Fatal(err)
	}
	front := &HTTPSRedirect{Handler: h, Secure: func(host string) bool { return host == "secure.example" }}
	e := &testEdge{URL: newServer(t, front), h: h, hosts: hosts}
	if r := e.get(t, "/a?b=c", map[string]string{"Host": "secure.example"}); r.status != 308 {
		t.Fatalf("status %d, want 308", r.status)
	}
	if r := e.get(t, "/", nil); r.status != 200 {
		t.Fatalf("status %d, want 200", r.status)
	}
	lines := waitLines(t, path, 2)
	if ln := lines[0]; ln.Status != 308 || ln.Host != "secure.example" || ln.Path != "/a" || !ln.Query || ln.Client != "127.0.0.1" {
		t.Errorf("redirect line %+v", ln)
	}
	if ln := lines[1]; ln.Status != 200 || ln.Env != "prod" {
		t.Errorf("site line %+v", ln)
	}
}

// TestAccessLogForwardedClient: behind a trusted proxy the client is the
// address it forwarded, on the lean loop and on net/http.
func TestAccessLogForwardedClient(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{})
	e := newTestEdge(t, mustSite(t, basicSite), Options{AccessLog: l, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	cert, key, pool := selfSigned(t)
	tlsURL := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key})
	tlsTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tlsTr.CloseIdleConnections()
	fwd := map[string]string{"X-Forwarded-For": "203.0.113.9"}
	e.get(t, "/", fwd)
	doWith(t, tlsTr, tlsURL+"/", fwd)
	// A balancer that ended TLS says so: the line says tls, on both paths.
	e.get(t, "/", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
	e.get(t, "/nosuch-host", map[string]string{"Host": "unknown.example", "X-Forwarded-Proto": "https"})
	lines := waitLines(t, path, 4)
	for i, ln := range lines {
		if i < 3 && ln.Client != "203.0.113.9" {
			t.Errorf("line %d: client %q, want the forwarded 203.0.113.9", i, ln.Client)
		}
	}
	if lines[0].TLS || !lines[1].TLS || !lines[2].TLS || !lines[3].TLS {
		t.Errorf("tls of plain, TLS, forwarded https, forwarded https to an unknown host: %v %v %v %v",
			lines[0].TLS, lines[1].TLS, lines[2].TLS, lines[3].TLS)
	}
}
