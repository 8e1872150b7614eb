package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	c, pool := testkit.SelfSigned(t, "127.0.0.1")
	certFile, keyFile = testkit.WriteKeyPair(t, t.TempDir(), c)
	return certFile, keyFile, pool
}

func TestServerTLSAndHTTP2(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	cert, key, pool := selfSigned(t)
	base := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key})
	if proto, status, body := getHTTPS(t, base+"/", pool); status != 200 || proto != "HTTP/2.0" || body != "<h1>home</h1>" {
		t.Fatalf("got %s %d %q, want HTTP/2 200", proto, status, body)
	}
}

// TestServerHandshakeErrorsAtDebug: a connection that closes before its
// TLS handshake (a load balancer's TCP health check) is logged at debug,
// not warn; other net/http errors stay at warn.
func TestServerHandshakeErrorsAtDebug(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	cert, key, _ := selfSigned(t)
	var logs testkit.LogBuffer
	base := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !logs.Contains("TLS handshake error") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !logs.Contains("level=DEBUG msg=\"http: TLS handshake error") || logs.Contains("level=WARN") {
		t.Errorf("a health check's handshake error; want it at debug only:\n%s", logs.String())
	}
	var plain testkit.LogBuffer
	errorLog(slog.New(slog.NewTextHandler(&plain, nil))).Print("http: Accept error: too many open files")
	if !plain.Contains("level=WARN") {
		t.Errorf("another net/http error: %q; want warn", plain.String())
	}
}

// getHTTPS gets url trusting pool, offering HTTP/2, and returns the
// protocol, status and body of the answer.
func getHTTPS(t *testing.T, url string, pool *x509.CertPool) (proto string, status int, body string) {
	t.Helper()
	r := getTLS(t, url, pool)
	return r.Proto, r.StatusCode, r.body
}

func TestServerGracefulShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Handler: slow}).Serve(ctx, ln) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel() // shutdown begins while the request is in flight
	close(release)
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still accepting after shutdown")
	}
}

func TestServerRejectsHalfTLSConfig(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &Server{Handler: http.NotFoundHandler(), TLSCertFile: "cert.pem"}
	if err := s.Serve(context.Background(), ln); err == nil {
		t.Fatal("cert without key accepted")
	}
}

func TestServeDir(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.html": "served by ServeDir", "404.html": "nf page"})
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startServeDir(t, ctx, dir, ServeOptions{})
	base := "http://" + addr
	for path, want := range map[string]string{"/": "served by ServeDir", "/missing": "nf page"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("%s: %q, want %q", path, b, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeDir after cancel: %v", err)
	}
	if err := ServeDir(context.Background(), filepath.Join(dir, "nope"), "127.0.0.1:0", ServeOptions{}); err == nil {
		t.Fatal("missing folder accepted")
	}
	bad := writeTree(t, map[string]string{"staticwebapp.config.json": `{"routes": 5}`})
	if err := ServeDir(context.Background(), bad, "127.0.0.1:0", ServeOptions{}); err == nil {
		t.Fatal("invalid config accepted")
	}
}

// TestListenReusePort: with reusePort two listeners (two serving
// processes, here two listeners of one) share one address; without it the
// second is refused.
func TestListenReusePort(t *testing.T) {
	ctx := context.Background()
	a, err := Listen(ctx, "127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Listen(ctx, a.Addr().String(), true)
	if err != nil {
		t.Fatalf("second SO_REUSEPORT listener: %v", err)
	}
	b.Close()
	if c, err := Listen(ctx, a.Addr().String(), false); err == nil {
		c.Close()
		t.Fatal("a listener without SO_REUSEPORT shared the address")
	}
}

// TestServeDirIdleTimeout: ServeOptions.IdleTimeout closes a keep-alive
// connection left idle that long, on the lean loop (plain HTTP) and over
// TLS (net/http), and not before.
func TestServeDirIdleTimeout(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.html": "idle"})
	certFile, keyFile, pool := selfSigned(t)
	const idle = 400 * time.Millisecond
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"lean loop", false}, {"tls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := ServeOptions{IdleTimeout: idle}
			if tc.tls {
				opts.TLSCertFile, opts.TLSKeyFile = certFile, keyFile
			}
			addr, done := startServeDir(t, ctx, dir, opts)
			var c net.Conn
			var err error
			if tc.tls {
				c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
			} else {
				c, err = net.Dial("tcp", addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answered := time.Now()
			_ = c.SetReadDeadline(answered.Add(10 * time.Second))
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
			}
			if waited := time.Since(answered); waited < idle-50*time.Millisecond {
				t.Fatalf("closed after %v, before the %v idle timeout", waited, idle)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// startServeDir runs ServeDir on dir with opts on a loopback port until ctx
// ends; it returns the address once the folder is served, and ServeDir's
// result.
func startServeDir(t *testing.T, ctx context.Context, dir string, opts ServeOptions) (string, <-chan error) {
	t.Helper()
	addrc := make(chan net.Addr, 1)
	opts.Ready = func(a net.Addr) { addrc <- a }
	done := make(chan error, 1)
	go func() { done <- ServeDir(ctx, dir, "127.0.0.1:0", opts) }()
	select {
	case a := <-addrc:
		return a.String(), done
	case err := <-done:
		t.Fatalf("ServeDir: %v", err)
		return "", nil
	}
}
