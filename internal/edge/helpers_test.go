package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// writeTree creates files (path -> content) under a new temp folder.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustSite(t *testing.T, files map[string]string) *DirSite {
	t.Helper()
	s, err := NewDirSite(context.Background(), writeTree(t, files))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testEdge is a Handler on a real edge Server (the lean HTTP/1.1 loop in
// front of net/http, as in production) with one environment "prod" that
// also answers every unknown host.
type testEdge struct {
	URL   string
	h     *Handler
	hosts *Hosts
}

func newTestEdge(t *testing.T, site Site, opts Options) *testEdge {
	t.Helper()
	hosts := NewHosts()
	hosts.SetSite("prod", site)
	hosts.SetFallback("prod")
	h, err := NewHandler(hosts, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testEdge{URL: newServer(t, h), h: h, hosts: hosts}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends method path with headers (Host via "Host") and returns the
// response with its body read.
func (e *testEdge) do(t *testing.T, method, path string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *testEdge) get(t *testing.T, path string, hdr map[string]string) response {
	t.Helper()
	return e.do(t, http.MethodGet, path, hdr)
}

// newServer serves h with an edge Server on loopback and returns its URL.
func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	return startServer(t, &Server{Handler: h})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startServer runs s on a loopback listener until the test ends and
// returns its base URL (http or https).
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if s.tls() {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}
