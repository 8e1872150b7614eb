package h1

import (
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The event loop's output: answers are written at once when the socket
// takes them; the rest waits in the connection's queue (see loop_linux.go).

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
		a, b = advance2(a, b, n)
	}
	c.enqueueBytes(a)
	c.enqueueBytes(b)
	return c.queueLimit()
}

// loopSendSection sends the pending head (MSG_MORE) and n bytes of f from
// off (from p first when it is a FilePipe of f), then with sendfile,
// queueing what the socket does not take. f is the regular file of
// FileSender.SendFile, open until this returns: its descriptor is used
// directly, without a RawConn per answer.
func (c *conn) loopSendSection(f *os.File, p *FilePipe, off, n int64, warm bool) (int64, error) {
	sfd := int(f.Fd()) // a regular file: Fd does not change its mode
	if sfd < 0 {
		return 0, os.ErrClosed
	}
	return c.loopSendFD(sfd, p, off, n, warm)
}

// loopSendFD sends the pending head and n bytes of sfd from off; it
// reports the bytes taken, queued ones included (a queued range holds a
// duplicate of sfd).
func (c *conn) loopSendFD(sfd int, p *FilePipe, off, n int64, warm bool) (int64, error) {
	raceRelease(c.ls.fd)
	var sent int64
	if len(c.ls.queue) == 0 {
		if done, err := c.sendOnce(c.ls.fd, sfd, p, &off, n, &sent, warm); done || err != nil {
			return sent, err
		}
	}
	c.enqueueBytes(c.out) // the socket would block, or output is queued already
	c.out = c.out[:0]
	return n, c.enqueueFD(sfd, off, n-sent)
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
	rc, err := f.SyscallConn() // any seekable file: Fd would make a pollable one blocking
	if err != nil {
		return 0, err
	}
	var sent int64
	cerr := rc.Control(func(sfd uintptr) { sent, err = c.loopSendFD(int(sfd), nil, pos, n, false) })
	if err == nil {
		err = cerr
	}
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

// enqueueFD queues n bytes of the file fd from off, as a duplicate of fd:
// the release may close its file before the bytes are out.
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
		var sent int64
		done, err := sendfileUntil(c.ls.fd, s.fd, &s.off, s.n, &sent, true)
		s.n -= sent
		if err != nil || !done {
			return err // err, or the socket would block
		}
		unix.Close(s.fd)
	}
	return nil
}

// peerOf is sa's address and port (an IPv4-mapped IPv6 address unmapped,
// no zone); the zero AddrPort for other kinds of address.
func peerOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
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
