package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

const (
	// readBufSize bounds a request head the lean loop parses; a larger head
	// (big cookies) goes to net/http, which applies MaxHeaderBytes.
	readBufSize = 8 << 10
	// flushAt is how many response bytes pipelined requests may pile up
	// before they are written.
	flushAt = 32 << 10
	// copyBodyMax: bodies up to this size are copied behind the head (one
	// write); larger ones go out with writev, uncopied.
	copyBodyMax = 16 << 10
	// deadlineSlack: deadlines are moved at most once per this period, so
	// a busy keep-alive connection does not re-arm timers per request.
	deadlineSlack = time.Second
)

// conn is one client connection served by the lean loop.
type conn struct {
	srv     *Server
	nc      net.Conn
	tcp     *net.TCPConn // nil for other conns (no sendfile)
	buf     []byte       // read buffer
	r, w    int          // unparsed bytes are buf[r:w]
	out     []byte       // response bytes not yet written
	iov     net.Buffers
	now     time.Time // when the current request was parsed
	req     http.Request
	u       url.URL
	hdr     http.Header
	seen    []string // parseHead's scratch
	p       parsed
	resp    response
	remote  string
	peer    netip.AddrPort // remote parsed, once asked for (peerOK)
	peerOK  bool
	raw     *rawIO // raw socket calls (Linux TCP); nil: net.Conn's
	served  int
	rdl     time.Time // read deadline set last
	rdlIdle bool      // rdl is an idle (not a header) deadline
	wdl     time.Time // write deadline set last
	ls      loopState // on an event loop (Linux): its state there
	headAt  int       // where in out the head of the answer being written begins
	// gated: Server.Gate admitted the connection from gatePeer and is
	// still to be told when it closes (Server.release); false once handed
	// to net/http, whose Close tells it.
	gated    bool
	gatePeer netip.AddrPort
}

func newConn(s *Server, nc net.Conn) *conn {
	c := newConnState(s, nc.RemoteAddr().String())
	c.buf, c.out = make([]byte, readBufSize), make([]byte, 0, 4096)
	c.hdr, c.seen, c.resp.hdr = http.Header{}, make([]string, 0, 16), http.Header{}
	c.nc = nc
	c.tcp, _ = nc.(*net.TCPConn)
	c.initRaw()
	return c
}

// newConnState is a connection's state without its socket or buffers: a
// goroutine's connection gets its own (newConn), an event loop lends its
// connections the loop's while it serves them (loop_linux.go).
func newConnState(s *Server, remote string) *conn {
	c := &conn{srv: s, remote: remote}
	c.resp.c = c
	return c
}

// serve runs the connection until it closes or is handed to net/http.
func (c *conn) serve() {
	handed := false
	defer func() {
		if v := recover(); v != nil {
			c.srv.logf("http: panic serving %s: %v\n%s", c.remote, v, debug.Stack())
		}
		if !handed {
			c.nc.Close()
			if c.gated {
				c.srv.release(c.gatePeer)
			}
		}
		c.srv.forget(c)
	}()
	for {
		if c.r == c.w {
			c.r, c.w = 0, 0
		}
		switch c.parseNext() {
		case accept:
			ok, h := c.handle()
			if !ok {
				handed = h
				return
			}
			continue
		case handOver:
			handed = c.handOver()
			return
		}
		if c.flush() != nil {
			return
		}
		if ok, eof := c.fill(); !ok {
			if eof && c.r != c.w { // net/http answers a truncated request
				handed = c.handOver()
			}
			return
		}
	}
}

// parseNext parses the head at buf[r:w]. A head that does not fit the
// buffer is handOver: net/http answers it (431 past MaxHeaderBytes).
func (c *conn) parseNext() verdict {
	v := parseHead(c.buf[c.r:c.w], c.hdr, &c.seen, &c.p)
	if v == needMore && c.r == 0 && c.w == len(c.buf) {
		return handOver
	}
	return v
}

// startRequest readies the reused request and response for the head just
// parsed, read at now.
func (c *conn) startRequest(now time.Time) {
	c.now = now
	c.fillRequest()
	c.resp.reset(c.p.method == http.MethodHead, c.p.close)
}

// endRequest completes the answer and consumes the request's head.
func (c *conn) endRequest() {
	c.resp.finish()
	c.r += c.p.size
	c.served++
	c.srv.fast.Add(1)
}

// fill reads more bytes, compacting the buffer first; ok=false ends the
// connection (EOF, error, timeout, shutdown); eof tells the client closed.
func (c *conn) fill() (ok, eof bool) {
	if c.w == len(c.buf) {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	now, d, idle := c.now, c.srv.idleTimeout, true // idle: counted from the last request, within deadlineSlack
	if c.r != c.w || c.served == 0 {
		now, d, idle = time.Now(), c.srv.headerTimeout, false
	}
	if !c.setReadDeadline(now, d, idle) {
		return false, false
	}
	n, err := c.read(c.buf[c.w:])
	c.w += n
	if err != nil && n == 0 {
		return false, errors.Is(err, io.EOF)
	}
	return true, false
}

// setReadDeadline arms the read deadline now+d, unless the one set last is
// of the same kind (idle or header) and within deadlineSlack of it. It
// reports false when the server is closing.
func (c *conn) setReadDeadline(now time.Time, d time.Duration, idle bool) bool {
	if d > 0 {
		want := now.Add(d)
		if diff := want.Sub(c.rdl); diff > deadlineSlack || diff < 0 || idle != c.rdlIdle {
			c.rdl, c.rdlIdle = want, idle
			_ = c.nc.SetReadDeadline(want)
		}
	}
	return !c.srv.closing.Load()
}

// handle serves the parsed request at buf[r:]. ok=false ends the loop;
// handed then tells whether the connection went to net/http.
func (c *conn) handle() (ok, handed bool) {
	c.startRequest(time.Now())
	if !c.srv.Handler.ServeFast(&c.resp, &c.req) && !c.resp.wroteHeader {
		return false, c.handOver()
	}
	c.endRequest()
	if c.resp.closeAfter {
		_ = c.flush()
		if tcp := c.tcp; tcp != nil {
			_ = tcp.CloseWrite()
		}
		return false, false
	}
	if c.r == c.w || len(c.out) >= flushAt {
		if c.flush() != nil {
			return false, false
		}
	}
	return true, false
}

// fillRequest sets the reused *http.Request to what net/http would build.
func (c *conn) fillRequest() {
	u := c.p.u
	if u == nil {
		c.u = url.URL{Path: c.p.path, RawQuery: c.p.query}
		u = &c.u
	}
	c.req = http.Request{
		Method: c.p.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.hdr, Body: http.NoBody, Host: c.p.host, Close: c.p.close,
		RemoteAddr: c.remote, RequestURI: c.p.target,
	}
}

// handOver gives the connection, with the bytes not yet parsed, to the
// fallback http.Server. It reports whether the handover happened.
func (c *conn) handOver() bool {
	if c.flush() != nil {
		return false
	}
	_ = c.nc.SetDeadline(time.Time{})
	pending := append([]byte(nil), c.buf[c.r:c.w]...)
	c.srv.handed.Add(1)
	return c.srv.fb.deliver(&prefixConn{Conn: c.nc, pending: pending, closed: c.srv.releaser(c.gated, c.gatePeer)})
}

// flush writes the pending response bytes.
func (c *conn) flush() error {
	if c.inLoop() {
		return c.loopFlush()
	}
	if len(c.out) == 0 {
		return nil
	}
	c.setWriteDeadline()
	err := c.write(c.out)
	c.out = c.out[:0]
	return err
}

// writeBody sends body bytes behind what is pending: copied when small,
// else with one writev of the pending bytes and p.
func (c *conn) writeBody(p []byte) error {
	if len(p) <= copyBodyMax {
		c.out = append(c.out, p...)
		return nil
	}
	if c.inLoop() {
		err := c.loopWrite2(c.out, p)
		c.out = c.out[:0]
		return err
	}
	c.setWriteDeadline()
	err := c.write2(c.out, p)
	c.out = c.out[:0]
	return err
}

// sendFrom flushes and copies src to the socket: sendfile for an
// *os.File (or a LimitedReader of one) on a TCP connection.
func (c *conn) sendFrom(src io.Reader) (int64, error) {
	if c.inLoop() {
		return c.loopSendFrom(src)
	}
	if err := c.flush(); err != nil {
		return 0, err
	}
	c.setWriteDeadline()
	if c.tcp != nil {
		return c.tcp.ReadFrom(src)
	}
	return io.Copy(c.nc, src)
}

// copySection is sendSection without sendfile.
func (c *conn) copySection(f *os.File, off, n int64) (int64, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return io.Copy(c.nc, io.NewSectionReader(f, off, n))
}

func (c *conn) setWriteDeadline() {
	d := c.srv.writeTimeout
	if d <= 0 {
		return
	}
	now := c.now // the current request's time: writes happen while it is served
	if now.IsZero() {
		now = time.Now()
	}
	want := now.Add(d)
	if diff := want.Sub(c.wdl); diff > deadlineSlack || diff < 0 {
		c.wdl = want
		_ = c.nc.SetWriteDeadline(want)
	}
}

// prefixConn is a handed-over connection: reads return the bytes the lean
// loop had buffered first.
type prefixConn struct {
	net.Conn
	pending []byte
	closed  func() // run once at the first Close (the Gate's release); may be nil
	once    sync.Once
}

// Close closes the connection and runs closed once.
func (p *prefixConn) Close() error {
	err := p.Conn.Close()
	if p.closed != nil {
		p.once.Do(p.closed)
	}
	return err
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// ReadFrom keeps sendfile for net/http's ResponseWriter.ReadFrom.
func (p *prefixConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := p.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(p.Conn, r)
}

// CloseWrite lets net/http half-close after an error response.
func (p *prefixConn) CloseWrite() error {
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
