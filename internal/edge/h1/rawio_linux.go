package h1

import (
	"io"
	"syscall"
	"unsafe"
)

// The lean loop's socket I/O uses raw system calls: the sockets are
// non-blocking (a call that would block returns EAGAIN and the goroutine
// waits in the netpoller), so the calls need not tell the scheduler they
// may block. That spares the scheduler from handing the P to another
// thread while a send is in the kernel, which on a busy loop costs two
// context switches per hand-off.

// rawIO holds a connection's raw-call state and the callbacks given to
// syscall.RawConn, built once per connection so calls do not allocate.
type rawIO struct {
	rc      syscall.RawConn
	rbuf    []byte
	rn      int
	rerr    error
	wbuf    []byte
	wbuf2   []byte // writev: sent after wbuf
	werr    error
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
	vecFn   func(fd uintptr) bool
}

func (c *conn) initRaw() {
	if c.tcp == nil || raceEnabled {
		return
	}
	rc, err := c.tcp.SyscallConn()
	if err != nil {
		return
	}
	r := &rawIO{rc: rc}
	r.readFn = func(fd uintptr) bool {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rbuf[0])), uintptr(len(r.rbuf)))
		switch {
		case e == syscall.EAGAIN:
			return false
		case e == syscall.EINTR:
			return r.readFn(fd)
		case e != 0:
			r.rn, r.rerr = 0, e
		case n == 0:
			r.rn, r.rerr = 0, io.EOF
		default:
			r.rn, r.rerr = int(n), nil
		}
		return true
	}
	r.writeFn = func(fd uintptr) bool {
		for len(r.wbuf) > 0 {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.wbuf[0])), uintptr(len(r.wbuf)))
			switch {
			case e == syscall.EAGAIN:
				return false
			case e == syscall.EINTR:
				continue
			case e != 0:
				r.werr = e
				return true
			}
			r.wbuf = r.wbuf[n:]
		}
		return true
	}
	r.vecFn = r.writev
	c.raw = r
}

// writev sends wbuf then wbuf2 with writev(2) until both are out or the
// socket would block (false: wait until it is writable).
func (r *rawIO) writev(fd uintptr) bool {
	n, err := writevFD(int(fd), r.wbuf, r.wbuf2)
	r.wbuf, r.wbuf2 = advance2(r.wbuf, r.wbuf2, n)
	if err != nil {
		r.werr = err
		return true
	}
	return len(r.wbuf)+len(r.wbuf2) == 0
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
		a, b = advance2(a, b, int(n))
	}
	return total, nil
}

// advance2 drops the first n bytes of a followed by b.
func advance2(a, b []byte, n int) ([]byte, []byte) {
	if n < len(a) {
		return a[n:], b
	}
	return nil, b[n-len(a):]
}

// read reads into b like net.Conn.Read.
func (c *conn) read(b []byte) (int, error) {
	r := c.raw
	if r == nil || len(b) == 0 {
		return c.nc.Read(b)
	}
	r.rbuf, r.rn, r.rerr = b, 0, nil
	if err := r.rc.Read(r.readFn); err != nil {
		return 0, err
	}
	r.rbuf = nil
	return r.rn, r.rerr
}

// write writes all of b like net.Conn.Write.
func (c *conn) write(b []byte) error {
	r := c.raw
	if r == nil {
		_, err := c.nc.Write(b)
		return err
	}
	r.wbuf, r.werr = b, nil
	err := r.rc.Write(r.writeFn)
	r.wbuf = nil
	if err != nil {
		return err
	}
	return r.werr
}

// write2 writes a then b, with one writev(2) when the socket takes both.
func (c *conn) write2(a, b []byte) error {
	r := c.raw
	if r == nil {
		c.iov = append(c.iov[:0], a, b)
		_, err := c.iov.WriteTo(c.nc)
		return err
	}
	r.wbuf, r.wbuf2, r.werr = a, b, nil
	err := r.rc.Write(r.vecFn)
	r.wbuf, r.wbuf2 = nil, nil
	if err != nil {
		return err
	}
	return r.werr
}
