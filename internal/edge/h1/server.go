// Package h1 is a lean HTTP/1.1 server loop for the edge's common case: GET
// and HEAD keep-alive requests without a body, from plain TCP clients.
//
// Each connection is served by one goroutine that parses request heads from
// a reused buffer into a reused *http.Request (no per-request goroutine,
// context, bufio or header-map allocation), answers through a ResponseWriter
// that produces the very bytes net/http would (sorted headers, Date,
// automatic Content-Length, sniffed Content-Type, Connection: close),
// coalesces pipelined responses into one write, sends large bodies with
// writev or sendfile and moves deadlines at most once a second.
//
// Anything else — a request with a body, Expect, Upgrade, HTTP/1.0, an
// absolute-form target, a bare-LF or folded header, an oversized head, a
// malformed request, or a request the Handler declines — is handed, with
// the bytes already read, to a fallback *http.Server through an in-memory
// listener, and that connection stays with net/http from then on. So every
// error answer (400, 431, 505...) is net/http's own.
package h1

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers requests the lean loop parsed.
//
// ServeFast gets a reused *http.Request (Body is http.NoBody, the context is
// context.Background()) and must not keep w or r after it returns. It
// returns false, without having written anything or changed any state, to
// have the request served by the fallback http.Server instead (which must
// answer it the same way as ServeFast would have, had it accepted).
type Handler interface {
	ServeFast(w http.ResponseWriter, r *http.Request) bool
}

// Server runs the lean loop on a listener, with a fallback net/http server
// for everything else. Its read, header, idle and write timeouts are the
// fallback's (ReadHeaderTimeout, IdleTimeout, WriteTimeout, with
// ReadTimeout filling in as net/http does).
type Server struct {
	Handler  Handler
	Fallback *http.Server // required; also used for its ErrorLog
	// Loops is the number of event loops serving a TCP listener on Linux
	// (default 1): each is one thread; see loop_linux.go.
	Loops int
	// Gate, when set, admits or refuses each new connection; see Gate.
	Gate Gate

	headerTimeout, idleTimeout, writeTimeout time.Duration

	fb        *chanListener
	ln        net.Listener
	mu        sync.Mutex
	conns     map[*conn]struct{}
	wg        sync.WaitGroup
	closing   atomic.Bool
	loops     []*loop     // the event loops while serveLoops runs
	hardClose atomic.Bool // Close: loops drop every connection
	fast      atomic.Uint64
	piped     atomic.Uint64
	handed    atomic.Uint64
	open      atomic.Int64
	accepted  atomic.Uint64
	queued    atomic.Uint64
}

// Gate admits connections, e.g. a cap on the connections one client holds
// open. Open is asked for each accepted connection before anything is read
// from it (false: the connection is closed at once); Closed is told once
// for each admitted connection when it closes, whether the lean loop or
// net/http (after a hand-over) closes it. Both may be called from several
// goroutines at once and must not block.
type Gate interface {
	Open(peer netip.AddrPort) bool
	Closed(peer netip.AddrPort)
}

// admit asks the Gate, if any, whether to serve a connection from peer.
// With a Gate, every connection admitted is told of once it closes
// (release).
func (s *Server) admit(peer netip.AddrPort) bool { return s.Gate == nil || s.Gate.Open(peer) }

// release tells the Gate, if any, that a connection it admitted closed.
func (s *Server) release(peer netip.AddrPort) {
	if s.Gate != nil {
		s.Gate.Closed(peer)
	}
}

// releaser is release for a connection handed to net/http when gated: it
// runs when net/http closes the connection (prefixConn.Close); else nil.
func (s *Server) releaser(gated bool, peer netip.AddrPort) func() {
	if !gated {
		return nil
	}
	return func() { s.release(peer) }
}

// GateListener applies g to the connections ln accepts, for a server that
// is not an h1.Server (net/http over TLS): Accept closes those g refuses
// and goes on, and g is told once when an admitted one closes.
func GateListener(ln net.Listener, g Gate) net.Listener { return gateListener{Listener: ln, g: g} }

type gateListener struct {
	net.Listener
	g Gate
}

func (l gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := tcpPeer(c.RemoteAddr())
		if !l.g.Open(peer) {
			c.Close()
			continue
		}
		return &prefixConn{Conn: c, closed: func() { l.g.Closed(peer) }}, nil
	}
}

// tcpPeer is a TCP address as the Gate is asked about it (as peerOf: an
// IPv4-mapped address unmapped, no zone); the zero AddrPort for others.
func tcpPeer(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// Stats counts what the lean loop did.
type Stats struct {
	Fast      uint64 // requests answered by the lean loop
	HandedOff uint64 // connections handed to net/http
	Open      int64  // connections the lean loop holds now
	Accepted  uint64 // connections accepted
	Queued    uint64 // times an event loop queued output the socket did not take
	Piped     uint64 // answers whose body went wholly from a FilePipe (tee and splice)
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	return Stats{Fast: s.fast.Load(), HandedOff: s.handed.Load(), Open: s.open.Load(), Accepted: s.accepted.Load(),
		Queued: s.queued.Load(), Piped: s.piped.Load()}
}

// Serve accepts connections on ln until Shutdown or Close, then returns
// http.ErrServerClosed. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	if s.Handler == nil || s.Fallback == nil {
		return errors.New("h1: Server.Handler and Server.Fallback are required")
	}
	fs := s.Fallback
	s.headerTimeout = firstPositive(fs.ReadHeaderTimeout, fs.ReadTimeout)
	s.idleTimeout = firstPositive(fs.IdleTimeout, fs.ReadTimeout)
	s.writeTimeout = fs.WriteTimeout
	s.mu.Lock()
	s.ln, s.fb, s.conns = ln, newChanListener(ln.Addr()), map[*conn]struct{}{}
	s.mu.Unlock()
	defer ln.Close()
	if s.closing.Load() { // Shutdown or Close came first
		return http.ErrServerClosed
	}
	go func() { _ = fs.Serve(s.fb) }()
	if tl, ok := ln.(*net.TCPListener); ok && loopSupported {
		return s.serveLoops(tl)
	}
	backoff := time.Duration(0)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return http.ErrServerClosed
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("http: Accept error: %v; retrying in %v", err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if c := s.track(nc); c != nil {
			go c.serve()
		}
	}
}

func (s *Server) track(nc net.Conn) *conn {
	peer := tcpPeer(nc.RemoteAddr())
	if !s.admit(peer) {
		nc.Close()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		nc.Close()
		s.release(peer)
		return nil
	}
	c := newConn(s, nc)
	c.gated, c.gatePeer = s.Gate != nil, peer
	s.conns[c] = struct{}{}
	s.open.Add(1)
	s.accepted.Add(1)
	s.wg.Add(1)
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.open.Add(-1)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, closes idle connections, lets requests in
// progress finish (their answers say Connection: close) and shuts the
// fallback down, all within ctx; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.stopLoops(ctx)
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
	for c := range s.conns {
		_ = c.nc.SetReadDeadline(time.Unix(1, 0)) // wakes a conn waiting for a request
	}
	s.mu.Unlock()
	fbErr := make(chan error, 1)
	go func() { fbErr <- s.Fallback.Shutdown(ctx) }()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.closeConns()
		<-done
	}
	return errors.Join(err, <-fbErr)
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.stopLoops(context.Background())
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.mu.Unlock()
	s.closeConns()
	return s.Fallback.Close()
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	if len(s.loops) > 0 {
		s.hardClose.Store(true)
		for _, l := range s.loops {
			l.wakeUp()
		}
	}
}

// stopLoops wakes the event loops (they see closing) and waits, within
// ctx, until none accepts any more: only then may the listener close, as
// its descriptor number could otherwise be reused under them.
func (s *Server) stopLoops(ctx context.Context) {
	s.mu.Lock()
	loops := s.loops
	s.mu.Unlock()
	for _, l := range loops {
		l.wakeUp()
	}
	for _, l := range loops {
		select {
		case <-l.stopped:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if l := s.Fallback.ErrorLog; l != nil {
		l.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

func firstPositive(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}

// chanListener is the fallback server's listener: connections arrive from
// the lean loop instead of from the network.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// deliver passes c to the fallback, or closes it after Close. Either way
// the caller no longer owns c.
func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		c.Close()
		return true // closed: the connection is gone either way
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("h1: fallback listener: %w", net.ErrClosed)
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
