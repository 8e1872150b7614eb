package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServesPassedSockets: sockets passed by name (systemd socket
// activation, Options.Listeners) are served instead of listening on the
// configured addresses, which are then never bound.
func TestServesPassedSockets(t *testing.T) {
	t.Parallel()
	api, edgeLn := listenLoopback(t), listenLoopback(t)
	taken := listenLoopback(t) // the configured addresses are busy: listening on them would fail
	a, err := New(Options{DataDir: t.TempDir(), Listen: taken.Addr().String(), EdgeListen: taken.Addr().String(),
		Listeners: map[string]net.Listener{SocketAPI: api, SocketEdge: edgeLn}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	if a.APIURL() != "http://"+api.Addr().String() || a.EdgeAddr().String() != edgeLn.Addr().String() {
		t.Fatalf("serving the API at %s and the edge at %s, want the passed sockets %s and %s",
			a.APIURL(), a.EdgeAddr(), api.Addr(), edgeLn.Addr())
	}
	for _, u := range []string{a.APIURL() + "/api/v1/health", "http://" + edgeLn.Addr().String() + "/health"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if strings.HasSuffix(u, "/health") && !strings.Contains(u, "/api/") {
			req.Host = "edge.phoenix.localhost"
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", u, resp.Status)
		}
	}
}

// TestRefusesUnknownPassedSockets: a socket the server would not serve is
// a usage error naming it, not a socket silently left open.
func TestRefusesUnknownPassedSockets(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"phoenix.socket": {},
		SocketEdgeTLS:    {}, // without --edge-tls-listen
	} {
		o.DataDir = t.TempDir()
		o.Listeners = map[string]net.Listener{name: listenLoopback(t)}
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), `systemd passed a socket named "`+name+`"`) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestPassedSocketOutlivesTheServer: what socket activation buys at a
// restart. systemd holds the socket and each server process gets its own
// descriptor of it; a client that connects while no server runs waits in
// the backlog and is answered by the next server, not refused.
func TestPassedSocketOutlivesTheServer(t *testing.T) {
	t.Parallel()
	held := listenLoopback(t).(*net.TCPListener) // systemd's
	passed := func() net.Listener {
		f, err := held.File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ln, err := net.FileListener(f)
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	dir := t.TempDir()
	first, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", Listeners: map[string]net.Listener{SocketEdge: passed()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.Stop(context.Background())

	c, err := net.Dial("tcp", held.Addr().String()) // no server runs now
	if err != nil {
		t.Fatalf("connecting between two servers: %v", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: edge.phoenix.localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	second, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", Listeners: map[string]net.Listener{SocketEdge: passed()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer second.Stop(context.Background())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the connection made between two servers: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the connection made between two servers: %s", resp.Status)
	}
}
