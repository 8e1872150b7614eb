package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
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
	stopped  chan struct{} // closed once the loop no longer accepts
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
		sweep: sweepPeriod(s), stopped: make(chan struct{})}
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
	l.now = time.Now()
	l.sweepAt = l.now.Add(l.sweep)
	for {
		timeout := int(l.sweep / time.Millisecond)
		if l.live == 0 && l.accepts {
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
	case fd == l.lfd && l.accepts:
		l.accept()
	case fd < len(l.conns) && l.conns[fd] != nil:
		c := l.conns[fd]
		if len(c.ls.queue) > 0 {
			l.writable(c)
		} else {
			l.readable(c)
		}
	}
}

// accept takes the pending connections.
func (l *loop) accept() {
	for range 64 {
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
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := l.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN); err != nil {
			unix.Close(fd)
			l.srv.logf("http: %v", err)
			continue
		}
		c := newConnState(l.srv, remoteString(sa))
		c.ls = loopState{lp: l, fd: fd}
		c.ls.deadline = l.after(l.srv.headerTimeout)
		for fd >= len(l.conns) {
			l.conns = append(l.conns, make([]*conn, max(len(l.conns), 64))...)
		}
		l.conns[fd] = c
		l.live++
		l.srv.open.Add(1)
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
		clear(c.hdr)
		c.vals = c.vals[:0]
		switch parseHead(c.buf[c.r:c.w], c.hdr, &c.vals, &c.p) {
		case accept:
			if !l.serveOne(c) {
				return
			}
			continue
		case handOver:
			l.handOver(c)
			return
		}
		if c.r == 0 && c.w == len(c.buf) { // the head does not fit
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
	c.now = l.now
	c.fillRequest()
	c.resp.reset(c.p.method == http.MethodHead, c.p.close)
	served, ok := l.call(c)
	if !ok {
		l.close(c)
		return false
	}
	if !served && !c.resp.wroteHeader {
		l.handOver(c)
		return false
	}
	c.resp.finish()
	c.r += c.p.size
	c.served++
	l.srv.fast.Add(1)
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
	l.forget(c)
	f := os.NewFile(uintptr(c.ls.fd), "")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		l.srv.logf("http: hand over %s: %v", c.remote, err)
		return
	}
	pending := append([]byte(nil), c.buf[c.r:c.w]...)
	l.srv.handed.Add(1)
	l.srv.fb.deliver(&prefixConn{Conn: nc, pending: pending})
}

// forget takes c off the loop without closing its socket.
func (l *loop) forget(c *conn) {
	_ = l.ctl(unix.EPOLL_CTL_DEL, c.ls.fd, 0)
	l.conns[c.ls.fd] = nil
	l.live--
	l.srv.open.Add(-1)
	c.dropQueue()
}

func (l *loop) close(c *conn) {
	if l.conns[c.ls.fd] != c {
		return
	}
	l.conns[c.ls.fd] = nil
	l.live--
	l.srv.open.Add(-1)
	c.dropQueue()
	unix.Close(c.ls.fd) // also leaves the epoll set
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

// dropQueue closes the file duplicates of c's queue and empties it.
func (c *conn) dropQueue() {
	for _, s := range c.ls.queue {
		if s.b == nil {
			unix.Close(s.fd)
		}
	}
	c.ls.queue, c.ls.qbytes = c.ls.queue[:0], 0
}

// loopFlush sends c.out now, queueing what the socket does not take.
func (c *conn) loopFlush() error {
	if len(c.out) == 0 {
		return nil
	}
	err := c.loopWrite2(c.out, nil)
	c.out = c.out[:0]
	return err
}

// loopWrite2 sends a then b, queueing what the socket does not take.
func (c *conn) loopWrite2(a, b []byte) error {
	if len(c.ls.queue) == 0 {
		n, err := writevFD(c.ls.fd, a, b)
		if err != nil {
			return err
		}
		if n >= len(a) {
			b, a = b[n-len(a):], nil
		} else {
			a = a[n:]
		}
	}
	c.enqueueBytes(a)
	c.enqueueBytes(b)
	return c.queueLimit()
}

// loopSendSection sends the pending head (MSG_MORE) and n bytes of f from
// off with sendfile, queueing what the socket does not take. It reports
// the bytes taken, queued ones included.
func (c *conn) loopSendSection(f *os.File, off, n int64, warm bool) (int64, error) {
	raceRelease(c.ls.fd)
	if len(c.ls.queue) == 0 {
		for len(c.out) > 0 {
			m, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.ls.fd), uintptr(unsafe.Pointer(&c.out[0])),
				uintptr(len(c.out)), syscall.MSG_MORE, 0, 0)
			if e == syscall.EAGAIN {
				break
			}
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
				return 0, e
			}
			c.out = c.out[:copy(c.out, c.out[m:])]
		}
	}
	if len(c.out) > 0 || len(c.ls.queue) > 0 {
		c.enqueueBytes(c.out)
		c.out = c.out[:0]
		return n, c.enqueueFile(f, off, n)
	}
	var sent int64
	src, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var serr error
	cerr := src.Control(func(sfd uintptr) {
		for sent < n {
			m, err := sendfile(c.ls.fd, int(sfd), &off, int(min(n-sent, 1<<30)), warm)
			if m > 0 {
				sent += int64(m)
			}
			switch {
			case err == syscall.EAGAIN:
				serr = c.enqueueFD(int(sfd), off, n-sent)
				sent = n
				return
			case err == syscall.EINTR:
			case err != nil:
				serr = err
				return
			case m == 0:
				serr = io.ErrUnexpectedEOF // the file is shorter than said
				return
			}
		}
	})
	return sent, errors.Join(cerr, serr)
}

// loopSendFrom sends src: a file (or a LimitedReader of one) from its
// offset with sendfile, anything else through the queueing writes.
func (c *conn) loopSendFrom(src io.Reader) (int64, error) {
	f, n := fileOf(src)
	if f == nil {
		return io.Copy(loopWriter{c}, src)
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return io.Copy(loopWriter{c}, src)
	}
	if n < 0 {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		n = max(st.Size()-pos, 0)
	}
	sent, err := c.loopSendSection(f, pos, n, false)
	_, _ = f.Seek(pos+sent, io.SeekStart)
	if lr, ok := src.(*io.LimitedReader); ok {
		lr.N -= sent
	}
	return sent, err
}

// fileOf returns the file behind src and how much of it to send (-1: to
// its end).
func fileOf(src io.Reader) (*os.File, int64) {
	switch r := src.(type) {
	case *os.File:
		return r, -1
	case *io.LimitedReader:
		if f, ok := r.R.(*os.File); ok {
			return f, r.N
		}
	}
	return nil, 0
}

// loopWriter writes through c's pending output.
type loopWriter struct{ c *conn }

func (w loopWriter) Write(p []byte) (int, error) {
	if err := w.c.loopWrite2(w.c.out, p); err != nil {
		return 0, err
	}
	w.c.out = w.c.out[:0]
	return len(p), nil
}

func (c *conn) enqueueBytes(b []byte) {
	if len(b) == 0 {
		return
	}
	c.startQueue()
	c.ls.queue = append(c.ls.queue, outSeg{b: append([]byte(nil), b...), fd: -1})
	c.ls.qbytes += len(b)
}

// enqueueFile queues n bytes of f from off (a duplicate of f's descriptor:
// the release may close f before the bytes are out).
func (c *conn) enqueueFile(f *os.File, off, n int64) error {
	src, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var derr error
	cerr := src.Control(func(fd uintptr) { derr = c.enqueueFD(int(fd), off, n) })
	return errors.Join(cerr, derr)
}

func (c *conn) enqueueFD(fd int, off, n int64) error {
	if n <= 0 {
		return nil
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	c.startQueue()
	c.ls.queue = append(c.ls.queue, outSeg{fd: dup, off: off, n: n})
	return nil
}

// startQueue switches c to waiting for writability when its queue starts.
func (c *conn) startQueue() {
	if len(c.ls.queue) > 0 {
		return
	}
	l := c.ls.lp
	l.srv.queued.Add(1)
	c.ls.deadline = l.after(l.srv.writeTimeout)
	_ = l.ctl(unix.EPOLL_CTL_MOD, c.ls.fd, unix.EPOLLOUT)
}

// queueLimit makes a handler's writes wait for the client once more than
// queueMax bytes are queued.
func (c *conn) queueLimit() error {
	for c.ls.qbytes > queueMax {
		wait := -1
		if !c.ls.deadline.IsZero() {
			wait = int(time.Until(c.ls.deadline) / time.Millisecond)
			if wait <= 0 {
				return os.ErrDeadlineExceeded
			}
		}
		fds := []unix.PollFd{{Fd: int32(c.ls.fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(fds, wait); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		if err := c.drain(); err != nil {
			return err
		}
	}
	return nil
}

// drain sends queued output until it is out or the socket would block.
func (c *conn) drain() error {
	q := c.ls.queue
	i := 0
	defer func() {
		c.ls.queue = q[:copy(q, q[i:])]
	}()
	raceRelease(c.ls.fd)
	for ; i < len(q); i++ {
		s := &q[i]
		if s.b != nil {
			n, err := writevFD(c.ls.fd, s.b, nil)
			s.b = s.b[n:]
			c.ls.qbytes -= n
			if err != nil || len(s.b) > 0 {
				return err // err, or the socket would block
			}
			continue
		}
		for s.n > 0 {
			m, err := sendfile(c.ls.fd, s.fd, &s.off, int(min(s.n, 1<<30)), true)
			if m > 0 {
				s.n -= int64(m)
			}
			switch {
			case err == syscall.EAGAIN:
				return nil
			case err == syscall.EINTR:
			case err != nil:
				return err
			case m == 0:
				return io.ErrUnexpectedEOF
			}
		}
		unix.Close(s.fd)
	}
	return nil
}

// writevFD writes a then b until both are out or the socket would block;
// it returns the bytes written.
func writevFD(fd int, a, b []byte) (int, error) {
	raceRelease(fd)
	var iov [2]syscall.Iovec
	total := 0
	for len(a)+len(b) > 0 {
		if len(a) == 0 {
			a, b = b, nil
		}
		cnt := 1
		iov[0] = syscall.Iovec{Base: &a[0]}
		iov[0].SetLen(len(a))
		if len(b) > 0 {
			iov[1] = syscall.Iovec{Base: &b[0]}
			iov[1].SetLen(len(b))
			cnt = 2
		}
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(cnt))
		switch {
		case e == syscall.EAGAIN:
			return total, nil
		case e == syscall.EINTR:
			continue
		case e != 0:
			return total, e
		}
		total += int(n)
		if int(n) < len(a) {
			a = a[n:]
			continue
		}
		b, a = b[int(n)-len(a):], nil
	}
	return total, nil
}

// remoteString formats a peer address as net.Conn.RemoteAddr().String().
func remoteString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrInet6:
		zone := ""
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			}
		}
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port, Zone: zone}).String()
	}
	return ""
}
