package h1

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// capGate admits at most max connections per address and keeps the books:
// Closed for a connection it did not admit is an error.
type capGate struct {
	mu      sync.Mutex
	max     int
	open    map[netip.Addr]int
	refused int
	errs    []string
}

func (g *capGate) Open(p netip.AddrPort) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[p.Addr()] >= g.max {
		g.refused++
		return false
	}
	g.open[p.Addr()]++
	return true
}

func (g *capGate) Closed(p netip.AddrPort) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[p.Addr()] == 0 {
		g.errs = append(g.errs, "Closed without Open for "+p.String())
		return
	}
	g.open[p.Addr()]--
}

func (g *capGate) count() (open, refused int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range g.open {
		open += n
	}
	return open, g.refused
}

// hideTCP hides *net.TCPListener, so Server.Serve runs the goroutine driver.
type hideTCP struct{ net.Listener }

// TestGate: with either driver, a connection the Gate refuses is closed
// before anything is read; Closed comes once per admitted connection when
// it closes, also for a connection handed to net/http (a request with a
// body), which stays counted until net/http closes it.
func TestGate(t *testing.T) {
	for _, driver := range []string{"loop", "goroutine"} {
		t.Run(driver, func(t *testing.T) {
			g := &capGate{max: 2, open: map[netip.Addr]int{}}
			h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") })
			fb := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
			s := &Server{Handler: h, Fallback: fb, Gate: g}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			if driver == "goroutine" {
				ln = hideTCP{ln}
			}
			done := make(chan error, 1)
			go func() { done <- s.Serve(ln) }()
			openIs := func(n int) {
				t.Helper()
				waitFor(t, "the gate's open count to reach the connections open", func() bool { o, _ := g.count(); return o == n })
			}

			a := dialKeep(t, addr, "/", "hi")
			b := dialKeep(t, addr, "/", "hi")
			testkit.ExpectClosedUnanswered(t, addr)
			// b's request with a body goes to net/http; b stays counted.
			if _, err := io.WriteString(b, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(b), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			testkit.ExpectClosedUnanswered(t, addr)
			if _, refused := g.count(); refused != 2 {
				t.Fatalf("refused %d connections, want 2", refused)
			}
			a.Close()
			openIs(1)
			c := dialKeep(t, addr, "/", "hi") // a's place is free again
			b.Close()                         // net/http closes its side: released
			openIs(1)
			c.Close()
			openIs(0)
			if st := s.Stats(); st.HandedOff != 1 {
				t.Errorf("handed off %d connections, want 1", st.HandedOff)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				t.Fatalf("Serve: %v", err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, e := range g.errs {
				t.Error(e)
			}
		})
	}
}
