package h1

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// sendSection writes the pending head with MSG_MORE (so it leaves in the
// same segment as the body) and then n bytes of f from off with
// sendfile(2) and an explicit offset: f's own offset is neither used nor
// moved, so one open file can serve many connections at once. On an event
// loop, p (a FilePipe of all of f, or nil) is tried before sendfile.
func (c *conn) sendSection(f *os.File, p *FilePipe, off, n int64, warm bool) (int64, error) {
	if c.inLoop() {
		return c.loopSendSection(f, p, off, n, warm)
	}
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
	if raceEnabled { // let the detector see the head's write
		if err := c.flush(); err != nil {
			return 0, err
		}
		warm = false
	}
	c.setWriteDeadline()
	var sent int64
	var werr error
	ctlErr := src.Control(func(sfd uintptr) {
		err := rc.Write(func(dfd uintptr) bool {
			var done bool
			done, werr = c.sendOnce(int(dfd), int(sfd), nil, &off, n, &sent, warm)
			return done
		})
		if werr == nil {
			werr = err
		}
	})
	return sent, errors.Join(ctlErr, werr)
}

// sendOnce makes progress until done or EAGAIN (done=false: wait until
// the socket is writable). p, on an event loop only, is a FilePipe of all
// of sfd's file: the answer goes from the loop's answer pipe for it (head
// and body, answerpipe_linux.go) or, failing that, the head with send and
// the body from p (pipe_linux.go); what the socket does not take goes on
// with send and sendfile.
func (c *conn) sendOnce(dfd, sfd int, p *FilePipe, off *int64, n int64, sent *int64, warm bool) (bool, error) {
	piped := p != nil && *sent == 0 && *off == 0 && n == p.n
	if piped && c.headAt == 0 && len(c.out) > 0 {
		if m, ok := c.ls.lp.answer(dfd, p, c.out); ok {
			piped = false
			h := min(m, int64(len(c.out)))
			c.out = c.out[:copy(c.out, c.out[h:])]
			*sent += m - h
			*off += m - h
			if *sent == n {
				c.srv.piped.Add(1)
				return true, nil
			}
		}
	}
	for len(c.out) > 0 { // send(2) with MSG_MORE, raw: the socket does not block
		m, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(dfd), uintptr(unsafe.Pointer(&c.out[0])),
			uintptr(len(c.out)), syscall.MSG_MORE, 0, 0)
		switch {
		case e == syscall.EAGAIN:
			return false, nil
		case e == syscall.EINTR:
			continue
		case e != 0:
			return true, e
		}
		c.out = c.out[:copy(c.out, c.out[m:])]
	}
	if piped {
		m := c.ls.lp.pipe.send(dfd, p)
		*sent += m
		*off += m
		if m == n {
			c.srv.piped.Add(1)
		}
	}
	return sendfileUntil(dfd, sfd, off, n, sent, warm)
}

// sendfileUntil sends sfd's bytes from *off to dfd with sendfile(2),
// counting them in *sent, until n are sent (done) or the socket would
// block (done=false: wait until it is writable).
func sendfileUntil(dfd, sfd int, off *int64, n int64, sent *int64, warm bool) (bool, error) {
	for *sent < n {
		m, err := sendfile(dfd, sfd, off, int(min(n-*sent, 1<<30)), warm)
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

// sendfile calls sendfile(2). It reads the page cache and may wait for the
// disk, so it goes through the scheduler-aware call unless the caller
// knows the pages are warm (sent moments ago): then a raw call spares the
// scheduler a P hand-off.
func sendfile(dfd, sfd int, off *int64, n int, warm bool) (int, error) {
	if !warm {
		return syscall.Sendfile(dfd, sfd, off, n)
	}
	m, _, e := syscall.RawSyscall6(syscall.SYS_SENDFILE, uintptr(dfd), uintptr(sfd), uintptr(unsafe.Pointer(off)), uintptr(n), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(m), nil
}
