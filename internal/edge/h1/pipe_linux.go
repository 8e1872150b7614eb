package h1

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A hot file's answer can skip sendfile's page-cache lookup. sendfile(2)
// splices the file into a pipe of the kernel's and that pipe into the
// socket, finding the file's pages again on every call. A FilePipe finds
// them once: its pipe holds references to the pages of the whole file,
// and an answer tee(2)s those references into the loop's own pipe (a
// reference count each, no lookup, no copy) and splices that pipe into the
// socket. On the bench's 38 KB answer that is 0.3–0.5 µs less CPU per
// request than sendfile, 4 % (bench/edge/RESULTS-edge.md, session 21).
//
// The pages a FilePipe references stay in memory while it is open (the
// page cache cannot drop them), so the pipes of all FilePipes together are
// kept under pipeBudget bytes, each at most pipeFileMax, and a file past
// either is sent with sendfile as before.

const (
	// pipeFileMax is the largest file a FilePipe holds (the kernel's
	// default /proc/sys/fs/pipe-max-size for unprivileged processes).
	pipeFileMax = 1 << 20
	// defaultPipeSize is a new pipe's capacity.
	defaultPipeSize = 16 << 12
)

// pipeBudget bounds the capacity of all FilePipes of the process together
// (under the kernel's default per-user pipe-user-pages-soft, 64 MiB). A
// variable for tests.
var pipeBudget int64 = 32 << 20

// pipeUsed is the capacity of the open FilePipes, in bytes.
var pipeUsed atomic.Int64

// PipeBytes is the capacity of the open FilePipes, in bytes: at most the
// memory whose page-cache pages they keep from being dropped.
func PipeBytes() int64 { return pipeUsed.Load() }

// ErrPipeBudget is NewFilePipe's error when the file is larger than a
// FilePipe holds or the FilePipes' budget is spent.
var ErrPipeBudget = errors.New("h1: file pipe budget spent")

// FilePipe is a pipe holding references to the page-cache pages of a whole
// regular file, for an event loop to answer with (FileSender.SendPiped).
// It is safe for concurrent use; the file's contents must not change
// while it is open (Phoenix's blobs never do).
type FilePipe struct {
	fd     int         // the pipe's read end (the write end is closed once filled)
	n      int64       // the file's length
	size   int64       // the pipe's capacity, counted in pipeUsed
	closed atomic.Bool // by Close; loops drop their answer pipes of it (answerpipe_linux.go)
}

// NewFilePipe fills a pipe with the first n bytes of f, which must be all
// of it. The pages are read through the page cache (a file read moments
// ago is not read from disk again).
func NewFilePipe(f *os.File, n int64) (*FilePipe, error) {
	if n <= 0 || n > pipeFileMax {
		return nil, ErrPipeBudget
	}
	size := pipeCapacity(n)
	if !reserve(size) {
		return nil, ErrPipeBudget
	}
	rc, err := f.SyscallConn()
	if err != nil {
		pipeUsed.Add(-size)
		return nil, err
	}
	fd, err := filledPipe(size, func(w int) error {
		var off int64
		var serr error
		if cerr := rc.Control(func(sfd uintptr) {
			for off < n && serr == nil {
				var m int64
				m, serr = unix.Splice(int(sfd), &off, w, nil, int(n-off), unix.SPLICE_F_NONBLOCK)
				if serr == nil && m == 0 {
					serr = io.ErrUnexpectedEOF // the file is shorter than n
				}
			}
		}); cerr != nil && serr == nil {
			serr = cerr
		}
		return serr
	})
	if err != nil {
		pipeUsed.Add(-size)
		return nil, err
	}
	return &FilePipe{fd: fd, n: n, size: size}, nil
}

// pipeCapacity is the capacity of a pipe that holds n bytes in whole
// pages: the default, or the power of two above it the kernel rounds to.
func pipeCapacity(n int64) int64 {
	size := int64(defaultPipeSize)
	for size < n {
		size *= 2
	}
	return size
}

// reserve counts a pipe of size bytes in pipeBudget; false when that
// would pass it (nothing is counted then).
func reserve(size int64) bool {
	if pipeUsed.Add(size) > pipeBudget {
		pipeUsed.Add(-size)
		return false
	}
	return true
}

// filledPipe makes a pipe of at least size bytes' capacity, fills it with
// fill (given the write end) and returns its read end, the write end
// closed. Past the user's pipe limits its error is ErrPipeBudget.
func filledPipe(size int64, fill func(w int) error) (int, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return -1, os.NewSyscallError("pipe2", err)
	}
	defer unix.Close(fds[1])
	err := ErrPipeBudget
	if pipeSize(fds[1], size) >= size {
		err = fill(fds[1])
	}
	if err != nil {
		unix.Close(fds[0])
		return -1, err
	}
	return fds[0], nil
}

// Len is the length of the file the pipe holds.
func (p *FilePipe) Len() int64 { return p.n }

// Close releases the pipe and its pages. No answer may be using it.
func (p *FilePipe) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	pipeUsed.Add(-p.size)
	return unix.Close(p.fd)
}

// loopPipe is an event loop's own pipe, which answers tee a FilePipe's
// pages into on their way to a socket. It is empty between answers.
type loopPipe struct {
	r, w    int
	size    int64
	retryAt time.Time // could not be made (no descriptors?): sendfile until then
}

// pipeRetry is how long a loop whose pipe could not be made sends with
// sendfile before it tries again.
const pipeRetry = time.Minute

// devNull takes the bytes a socket did not take out of a loopPipe.
var devNull = sync.OnceValues(func() (int, error) {
	return unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
})

// ready makes the pipe if it has not been made; false if it cannot be.
func (lp *loopPipe) ready() bool {
	if lp.size > 0 {
		return true
	}
	if !lp.retryAt.IsZero() && time.Now().Before(lp.retryAt) {
		return false
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		lp.retryAt = time.Now().Add(pipeRetry)
		return false
	}
	size := pipeSize(fds[1], pipeFileMax)
	if size == 0 {
		unix.Close(fds[0])
		unix.Close(fds[1])
		lp.retryAt = time.Now().Add(pipeRetry)
		return false
	}
	lp.r, lp.w, lp.size = fds[0], fds[1], size
	return true
}

// pipeSize asks for a capacity of want bytes for the pipe whose write end
// is w and returns the capacity it has: less than want past the user's
// pipe limits (pipe-max-size, pipe-user-pages-soft, over which the kernel
// even makes new pipes of one page).
func pipeSize(w int, want int64) int64 {
	if want > defaultPipeSize {
		if got, err := unix.FcntlInt(uintptr(w), unix.F_SETPIPE_SZ, int(want)); err == nil {
			return int64(got)
		}
	}
	got, err := unix.FcntlInt(uintptr(w), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0
	}
	return int64(got)
}

// close releases the pipe.
func (lp *loopPipe) close() {
	if lp.size > 0 {
		unix.Close(lp.r)
		unix.Close(lp.w)
		lp.size = 0
	}
}

// send sends p's bytes to the socket dfd: tee into the loop's pipe, splice
// into the socket. It reports the bytes the socket took; fewer than p.Len()
// (the socket's buffer is full, or the pipe path failed) leave the rest for
// sendfile, and the loop's pipe is empty again either way.
func (lp *loopPipe) send(dfd int, p *FilePipe) int64 {
	if !lp.ready() || p.size > lp.size {
		return 0
	}
	t, _, e := syscall.RawSyscall6(unix.SYS_TEE, uintptr(p.fd), uintptr(lp.w), uintptr(p.n), unix.SPLICE_F_NONBLOCK, 0, 0)
	if e != 0 || t == 0 {
		return 0
	}
	return lp.drain(dfd, int64(t))
}

// drain splices the t bytes in the pipe into the socket dfd and reports
// how many it took; the rest is dropped, so the pipe is empty again.
func (lp *loopPipe) drain(dfd int, t int64) int64 {
	var sent int64
	for sent < t {
		m, _, e := syscall.RawSyscall6(unix.SYS_SPLICE, uintptr(lp.r), 0, uintptr(dfd), 0, uintptr(t-sent), unix.SPLICE_F_NONBLOCK)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || m == 0 {
			break
		}
		sent += int64(m)
	}
	if sent < t {
		lp.empty(t - sent)
	}
	return sent
}

// empty drops n bytes left in the pipe (remaking it if that fails).
func (lp *loopPipe) empty(n int64) {
	null, err := devNull()
	for n > 0 && err == nil {
		var m int64
		m, err = unix.Splice(lp.r, nil, null, nil, int(n), unix.SPLICE_F_NONBLOCK)
		if m == 0 && err == nil {
			err = io.ErrUnexpectedEOF
		}
		n -= m
	}
	if err != nil {
		lp.close()
	}
}
