package h1

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// sendSection writes the pending head with MSG_MORE (so it leaves in the
// same segment as the body) and then n bytes of f from off with
// sendfile(2) and an explicit offset: f's own offset is neither used nor
// moved, so one open file can serve many connections at once.
func (c *conn) sendSection(f *os.File, off, n int64) (int64, error) {
	if c.tcp == nil {
		return c.copySection(f, off, n)
	}
	rc, err := c.tcp.SyscallConn()
	if err != nil {
		return 0, err
	}
	src, err := f.SyscallConn()
	if err != nil {
		return c.copySection(f, off, n)
	}
	c.setWriteDeadline()
	var sent int64
	var werr error
	ctlErr := src.Control(func(sfd uintptr) {
		err := rc.Write(func(dfd uintptr) bool {
			var done bool
			done, werr = c.sendOnce(int(dfd), int(sfd), &off, n, &sent)
			return done
		})
		if werr == nil {
			werr = err
		}
	})
	return sent, errors.Join(ctlErr, werr)
}

// sendOnce makes progress until done or EAGAIN (done=false: wait until
// the socket is writable).
func (c *conn) sendOnce(dfd, sfd int, off *int64, n int64, sent *int64) (bool, error) {
	for len(c.out) > 0 {
		m, err := syscall.SendmsgN(dfd, c.out, nil, nil, syscall.MSG_MORE)
		switch {
		case err == syscall.EAGAIN:
			return false, nil
		case err == syscall.EINTR:
			continue
		case err != nil:
			return true, err
		}
		c.out = c.out[:copy(c.out, c.out[m:])]
	}
	for *sent < n {
		m, err := syscall.Sendfile(dfd, sfd, off, int(min(n-*sent, 1<<30)))
		if m > 0 {
			*sent += int64(m)
		}
		switch {
		case err == syscall.EAGAIN:
			return false, nil
		case err == syscall.EINTR:
			continue
		case err != nil:
			return true, err
		case m == 0:
			return true, io.ErrUnexpectedEOF // the file is shorter than said
		}
	}
	return true, nil
}
