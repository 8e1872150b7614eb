package h1

import (
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux a TCP listener is served by event loops, as nginx serves with
// its workers: each loop is one goroutine locked to its thread that waits
// in its own epoll instance (level-triggered) and serves every connection
// it accepted, reading a socket only when epoll reported it readable. A
// goroutine per connection, waiting in Go's netpoller, costs a read that
// returns EAGAIN after almost every answer plus a park and a wake-up per
// request; the loop does neither, and it leaves the scheduler alone: the
// blocking epoll_wait is the only call that gives up the P.
//
// Handlers run on the loop, so they must not block: the edge's answers are
// memory or file work, and what needs more (/.auth, the API, request
// bodies) is declined and served by net/http's goroutines. Output the
// socket does not take at once is queued (bytes copied, files as a
// duplicate descriptor and a range) and sent when epoll reports the
// socket writable; the connection reads no further request until then.

const (
	loopSupported = true
	loopEvents    = 256
	// queueMax: queued response bytes (not file ranges) past which a
	// handler's writes wait for the client, so a handler streaming from
	// a non-file reader cannot pile up memory behind a slow client.
	queueMax = 1 << 20
)

// loopState is a connection's state on an event loop.
type loopState struct {
	lp         *loop
	fd         int
	queue      []outSeg
	qbytes     int
	deadline   time.Time // close the connection when passed (zero: none)
	drainClose bool      // close once the queue is sent
	lent       bool      // buf is the loop's (loopbuf_linux.go)
}

// outSeg is response output waiting for the socket: bytes, or n bytes of
// the file fd (a duplicate the segment owns) from off.
type outSeg struct {
	b      []byte
	fd     int
	off, n int64
}

// loop is one event loop.
type loop struct {
	srv      *Server
	ep       int
	lfd      int // the listener, shared by all loops (EPOLLEXCLUSIVE)
	wake     int // eventfd: Shutdown and Close wake the loop
	conns    []*conn
	live     int
	now      time.Time
	sweepAt  time.Time
	sweep    time.Duration
	events   []unix.EpollEvent
	accepts  bool      // the listener is in the epoll set
	pausedTo time.Time // accept paused after an error until then
	backoff  time.Duration
	stopped  chan struct{}             // closed once the loop no longer accepts
	peers    []*loop                   // all the server's loops, this one included
	load     atomic.Int64              // connections served plus those handed over and not yet adopted
	inMu     sync.Mutex                // guards inbox and exited
	inbox    []handoff                 // connections another loop accepted for this one
	exited   bool                      // run has returned: hand nothing over any more
	scratch  scratch                   // request memory lent to the connection served
	pipe     loopPipe                  // answers from a FilePipe go through it (pipe_linux.go)
	answers  map[*FilePipe]*answerPipe // head-and-body pipes (answerpipe_linux.go)
}

func (c *conn) inLoop() bool { return c.ls.lp != nil }

// serveLoops runs s.loops event loops on ln until Shutdown or Close.
func (s *Server) serveLoops(ln *net.TCPListener) error {
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	lfd := -1
	if err := rc.Control(func(fd uintptr) { lfd = int(fd) }); err != nil {
		return err
	}
	n := max(s.Loops, 1)
	spareProc(n)
	loops := make([]*loop, 0, n)
	for range n {
		l, err := newLoop(s, lfd)
		if err != nil {
			for _, l := range loops {
				l.closeFDs()
			}
			return err
		}
		loops = append(loops, l)
	}
	for _, l := range loops {
		l.peers = loops
	}
	s.mu.Lock()
	s.loops = loops
	closing := s.closing.Load()
	s.mu.Unlock()
	if closing {
		for _, l := range loops {
			l.closeFDs()
		}
		return http.ErrServerClosed
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		s.wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.wg.Done()
			l.run()
		}()
	}
	wg.Wait()
	return http.ErrServerClosed
}

// procsMu serialises spareProc's read and raise of GOMAXPROCS.
var procsMu sync.Mutex

// spareProc raises GOMAXPROCS to loops+1 when it is lower, unless the
// GOMAXPROCS environment variable set it. A loop waits in epoll_wait as a
// system call, and its P waits with it unless sysmon takes the P back:
// when every P is in a system call, sysmon takes each back at every tick
// and starts a spinning thread that finds nothing to do and sleeps again. Measured with two loops on two Ps under
// wrk (bench/edge/run.sh, STEPS=procs): the runtime's other threads woke
// 14,000 times a second and used 0.17 core doing that; with a third P,
// 2,800 times and 0.04 core. A P to spare also keeps the rest of the
// process (the API, the monitor, net/http's connections) from waiting for
// a loop to sleep. Setting GOMAXPROCS ends the runtime's own updates of it
// (from a container's CPU limit); it only happens when the loops would
// otherwise take every P.
func spareProc(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	procsMu.Lock()
	defer procsMu.Unlock()
	if runtime.GOMAXPROCS(0) <= loops {
		runtime.GOMAXPROCS(loops + 1)
	}
}

func newLoop(s *Server, lfd int) (*loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ep)
		return nil, os.NewSyscallError("eventfd", err)
	}
	l := &loop{srv: s, ep: ep, lfd: lfd, wake: wake, events: make([]unix.EpollEvent, loopEvents),
		sweep: sweepPeriod(s), stopped: make(chan struct{}), scratch: newScratch()}
	if err := l.ctl(unix.EPOLL_CTL_ADD, wake, unix.EPOLLIN); err != nil {
		l.closeFDs()
		return nil, err
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, lfd, unix.EPOLLIN|unix.EPOLLEXCLUSIVE); err != nil {
		l.closeFDs()
		return nil, err
	}
	l.accepts = true
	return l, nil
}

// sweepPeriod is how often a loop looks for connections past their
// deadline: a quarter of the shortest timeout, within [10ms, 500ms].
func sweepPeriod(s *Server) time.Duration {
	d := 500 * time.Millisecond
	for _, t := range []time.Duration{s.headerTimeout, s.idleTimeout, s.writeTimeout} {
		if t > 0 {
			d = min(d, t/4)
		}
	}
	return max(d, 10*time.Millisecond)
}

func (l *loop) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(l.ep, op, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (l *loop) closeFDs() {
	unix.Close(l.wake)
	unix.Close(l.ep)
	l.sweepAnswers(true)
	l.pipe.close()
}

// wakeUp makes the loop's epoll_wait return (Shutdown, Close).
func (l *loop) wakeUp() {
	one := uint64(1)
	_, _ = unix.Write(l.wake, (*[8]byte)(unsafe.Pointer(&one))[:])
}

// run is the loop: wait, serve what is ready, sweep deadlines, and on
// shutdown stop accepting and end once no connection is left.
func (l *loop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.closeFDs()
	defer l.exit()
	l.now = time.Now()
	l.sweepAt = l.now.Add(l.sweep)
	for {
		timeout := int(l.sweep / time.Millisecond)
		if l.live == 0 && l.accepts {
			l.sweepAnswers(true) // no sweep until a connection comes; rebuilt in a second anyway
			timeout = -1
		}
		n, err := unix.EpollWait(l.ep, l.events, timeout)
		l.now = time.Now()
		if err != nil && err != unix.EINTR {
			l.srv.logf("http: epoll_wait: %v", err)
		}
		for i := range max(n, 0) {
			l.event(l.events[i])
		}
		if l.srv.closing.Load() {
			if l.shutdownStep() {
				return
			}
		} else if !l.accepts && !l.now.Before(l.pausedTo) {
			l.resumeAccept()
		}
		if !l.now.Before(l.sweepAt) {
			l.sweepDeadlines()
			l.sweepAnswers(false)
			l.sweepAt = l.now.Add(l.sweep)
		}
	}
}

func (l *loop) event(ev unix.EpollEvent) {
	fd := int(ev.Fd)
	switch {
	case fd == l.wake:
		var b [8]byte
		_, _ = unix.Read(l.wake, b[:])
		l.adoptInbox()
	case fd == l.lfd && l.accepts:
		l.accept()
	case fd < len(l.conns) && l.conns[fd] != nil:
		l.connEvent(l.conns[fd])
	}
}

// connEvent serves a readiness of c with the loop's request memory. A
// panic here closes c only, as net/http does for its connections, and the
// loop goes on.
func (l *loop) connEvent(c *conn) {
	l.lend(c)
	defer func() {
		if v := recover(); v != nil {
			l.srv.logf("http: panic serving %s: %v\n%s", c.remote, v, debug.Stack())
			l.close(c)
		}
		l.park(c)
	}()
	if len(c.ls.queue) > 0 {
		l.writable(c)
	} else {
		l.readable(c)
	}
}

// accept takes the pending connections, at most acceptBurst per
// readiness, and gives each to the least loaded loop (balance_linux.go).
func (l *loop) accept() {
	for range acceptBurst {
		fd, sa, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EAGAIN || err == unix.ECONNABORTED || err == unix.EINTR:
			if err == unix.EAGAIN {
				return
			}
			continue
		case err != nil:
			l.backoff = min(max(2*l.backoff, 5*time.Millisecond), time.Second)
			l.srv.logf("http: Accept error: %v; retrying in %v", err, l.backoff)
			l.pauseAccept(l.backoff)
			return
		}
		l.backoff = 0
		peer := peerOf(sa)
		if !l.srv.admit(peer) {
			unix.Close(fd)
			continue
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		h := handoff{fd: fd, remote: remoteString(sa), peer: peer}
		if t := l.leastLoaded(); t == l || !t.give(h) {
			l.adopt(h)
		}
	}
}

func (l *loop) pauseAccept(d time.Duration) {
	if l.accepts {
		_ = l.ctl(unix.EPOLL_CTL_DEL, l.lfd, 0)
		l.accepts = false
	}
	l.pausedTo = l.now.Add(d)
}

func (l *loop) resumeAccept() {
	if err := l.ctl(unix.EPOLL_CTL_ADD, l.lfd, unix.EPOLLIN|unix.EPOLLEXCLUSIVE); err == nil {
		l.accepts = true
	}
}

// after is now+d, or zero (no deadline) when d is not positive.
func (l *loop) after(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return l.now.Add(d)
}

// readable reads what arrived on c and serves the complete requests.
func (l *loop) readable(c *conn) {
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if c.w == len(c.buf) {
		if c.r == 0 { // a head larger than the buffer: net/http answers it
			l.handOver(c)
			return
		}
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	fresh := c.r == c.w
	n, e := loopRead(c.ls.fd, c.buf[c.w:])
	switch {
	case e == syscall.EAGAIN || e == syscall.EINTR:
		return
	case e != 0 || n == 0:
		if e == 0 && c.r != c.w { // EOF inside a head: net/http answers it
			l.handOver(c)
			return
		}
		l.close(c)
		return
	}
	c.w += n
	if fresh && !l.srv.closing.Load() {
		c.ls.deadline = l.after(l.srv.headerTimeout) // a request head starts
	}
	l.process(c)
}

// process serves the complete requests buffered in c while its output
// keeps up, then sends what they produced.
func (l *loop) process(c *conn) {
	for len(c.ls.queue) == 0 {
		if c.r == c.w {
			break
		}
		switch c.parseNext() {
		case accept:
			if !l.serveOne(c) {
				return
			}
			continue
		case handOver:
			l.handOver(c)
			return
		}
		break // needMore
	}
	if err := c.flush(); err != nil {
		l.close(c)
		return
	}
	l.settle(c)
}

// settle arms c's deadline for what it waits for now and closes it when
// the server is shutting down and c is idle.
func (l *loop) settle(c *conn) {
	switch {
	case len(c.ls.queue) > 0:
		// the write deadline was set when the queue started
	case c.ls.drainClose:
		l.closeWrite(c)
	case c.r == c.w:
		if l.srv.closing.Load() {
			l.close(c)
			return
		}
		c.ls.deadline = l.after(l.srv.idleTimeout)
	}
}

// serveOne answers the request parsed at buf[r:]; false: c is gone
// (closed or handed to net/http).
func (l *loop) serveOne(c *conn) bool {
	c.startRequest(l.now)
	served, ok := l.call(c)
	if !ok {
		l.close(c)
		return false
	}
	if !served && !c.resp.wroteHeader {
		l.handOver(c)
		return false
	}
	c.endRequest()
	if c.resp.closeAfter {
		c.ls.drainClose = true
		if err := c.flush(); err != nil {
			l.close(c)
			return false
		}
		if len(c.ls.queue) == 0 {
			l.closeWrite(c)
		}
		return false
	}
	if len(c.out) >= flushAt {
		if err := c.flush(); err != nil {
			l.close(c)
			return false
		}
	}
	return true
}

// call runs the handler; ok=false: it panicked (logged as net/http does).
func (l *loop) call(c *conn) (served, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			l.srv.logf("http: panic serving %s: %v\n%s", c.remote, v, debug.Stack())
			served, ok = false, false
		}
	}()
	return l.srv.Handler.ServeFast(&c.resp, &c.req), true
}

// writable sends c's queued output; once it is out, c reads again.
func (l *loop) writable(c *conn) {
	if err := c.drain(); err != nil {
		l.close(c)
		return
	}
	if len(c.ls.queue) > 0 {
		return
	}
	if err := l.ctl(unix.EPOLL_CTL_MOD, c.ls.fd, unix.EPOLLIN); err != nil {
		l.close(c)
		return
	}
	if c.ls.drainClose {
		l.closeWrite(c)
		return
	}
	l.process(c)
}

// handOver gives c, with the bytes not yet parsed, to the fallback
// http.Server once its pending output is sent.
func (l *loop) handOver(c *conn) {
	if err := c.flush(); err != nil {
		l.close(c)
		return
	}
	if len(c.ls.queue) > 0 {
		return // process runs again, and hands over, once the queue is out
	}
	gated := c.gated
	c.gated = false // net/http closes it from now on: prefixConn.Close releases
	l.forget(c)
	f := os.NewFile(uintptr(c.ls.fd), "")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		l.srv.logf("http: hand over %s: %v", c.remote, err)
		if gated {
			l.srv.release(c.gatePeer)
		}
		return
	}
	pending := append([]byte(nil), c.buf[c.r:c.w]...)
	l.srv.handed.Add(1)
	l.srv.fb.deliver(&prefixConn{Conn: nc, pending: pending, closed: l.srv.releaser(gated, c.gatePeer)})
}

// forget takes c off the loop without closing its socket.
func (l *loop) forget(c *conn) {
	_ = l.ctl(unix.EPOLL_CTL_DEL, c.ls.fd, 0)
	l.drop(c)
}

func (l *loop) close(c *conn) {
	if l.conns[c.ls.fd] != c {
		return
	}
	l.drop(c)
	unix.Close(c.ls.fd) // also leaves the epoll set
}

// drop takes c off the loop's books and empties its queue.
func (l *loop) drop(c *conn) {
	l.conns[c.ls.fd] = nil
	l.live--
	l.load.Add(-1)
	l.srv.open.Add(-1)
	c.dropQueue()
	if c.gated {
		l.srv.release(c.gatePeer)
		c.gated = false
	}
}

// closeWrite half-closes c (its answer is complete) and closes it.
func (l *loop) closeWrite(c *conn) {
	_ = unix.Shutdown(c.ls.fd, unix.SHUT_WR)
	l.close(c)
}

// sweepDeadlines closes the connections whose deadline passed: a head
// not sent in time, an idle keep-alive, a client not reading its answer.
func (l *loop) sweepDeadlines() {
	for _, c := range l.conns {
		if c != nil && !c.ls.deadline.IsZero() && l.now.After(c.ls.deadline) {
			l.close(c)
		}
	}
}

// shutdownStep stops accepting, closes idle connections (Close: all of
// them) and reports whether the loop is done.
func (l *loop) shutdownStep() bool {
	if l.accepts {
		_ = l.ctl(unix.EPOLL_CTL_DEL, l.lfd, 0)
		l.accepts = false
	}
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
	}
	hard := l.srv.hardClose.Load()
	for _, c := range l.conns {
		if c != nil && (hard || c.r == c.w && len(c.ls.queue) == 0) {
			l.close(c)
		}
	}
	return l.live == 0
}
