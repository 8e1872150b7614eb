package h1

import (
	"bytes"
	"errors"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// A whole answer from one pipe. Most answers of a hot file on a loop carry
// the same head (the representation's serialized fields and the Date of
// this second), so a loop keeps, per FilePipe, an answer pipe holding that
// head and, after it, the FilePipe's page references: the answer is then
// one tee(2) into the loop's pipe and one splice(2) into the socket,
// instead of a send(2) of the head with MSG_MORE, a tee and a splice. The
// head's send was the costlier part (an skb allocated and corked per
// answer): on the bench's 38 KB answer, 7.1 µs of CPU per request against
// 8.1 for head-then-body and 8.45 for sendfile (the C reference server,
// bench/edge/RESULTS-edge.md, session 21).
//
// An answer pipe is rebuilt when the head changes, at most once per second
// (the Date); an answer whose head differs from the pipe's within the
// same second (Connection: close, another host's header rules) goes the
// head-then-body way. They count in pipeBudget like FilePipes; a loop
// drops those of closed FilePipes when it sweeps its deadlines, and all of
// them when it has no connection left (it then sleeps until one comes).

// answersMax bounds the answer pipes one loop keeps.
const answersMax = 256

// answerBuilds counts the answer pipes made (for tests).
var answerBuilds atomic.Int64

// answerPipe is a loop's head-and-body pipe for one FilePipe.
type answerPipe struct {
	head  []byte
	fd    int   // read end
	size  int64 // capacity, counted in pipeUsed
	built int64 // unix second it was built
}

// close releases the pipe.
func (a *answerPipe) close() {
	unix.Close(a.fd)
	pipeUsed.Add(-a.size)
}

// answer sends head and then p's bytes to the socket dfd from the loop's
// answer pipe for p, making or remaking it if it may. It reports the bytes
// the socket took (head first) and false when no answer pipe could be
// used, in which case nothing was sent. The loop's own pipe is empty again
// either way.
func (l *loop) answer(dfd int, p *FilePipe, head []byte) (int64, bool) {
	lp := &l.pipe
	if !lp.ready() {
		return 0, false
	}
	a := l.answers[p]
	if a == nil || !bytes.Equal(a.head, head) {
		if a = l.rebuild(p, a, head); a == nil {
			return 0, false
		}
	}
	total := int64(len(head)) + p.n
	t, _, e := syscall.RawSyscall6(unix.SYS_TEE, uintptr(a.fd), uintptr(lp.w), uintptr(total), unix.SPLICE_F_NONBLOCK, 0, 0)
	if e != 0 || t == 0 {
		return 0, false
	}
	return lp.drain(dfd, int64(t)), true
}

// rebuild makes p's answer pipe for head in place of old (nil: none yet),
// or returns nil when it may not: old was built this second, the loop
// keeps answersMax already, the head is over a page, the answer would not
// fit the loop's pipe, or the budget is spent.
func (l *loop) rebuild(p *FilePipe, old *answerPipe, head []byte) *answerPipe {
	now := l.now.Unix()
	switch {
	case old != nil && old.built == now, old == nil && len(l.answers) >= answersMax, len(head) > 4096:
		return nil
	}
	size := pipeCapacity(((p.n+4095)/4096 + 1) * 4096) // the body's pages and the head's
	if size > l.pipe.size || !reserve(size) {
		return nil
	}
	a := &answerPipe{head: append([]byte(nil), head...), size: size, built: now}
	fd, err := filledPipe(size, func(w int) error {
		if n, err := unix.Write(w, a.head); err != nil || n != len(a.head) {
			return errShort
		}
		if t, err := unix.Tee(p.fd, w, int(p.n), unix.SPLICE_F_NONBLOCK); err != nil || t != p.n {
			return errShort
		}
		return nil
	})
	if err != nil {
		pipeUsed.Add(-size)
		return nil
	}
	a.fd = fd
	if old != nil {
		old.close()
	}
	if l.answers == nil {
		l.answers = map[*FilePipe]*answerPipe{}
	}
	l.answers[p] = a
	answerBuilds.Add(1)
	return a
}

// errShort is the failure to fill an answer pipe whole.
var errShort = errors.New("h1: answer pipe not filled")

// sweepAnswers drops the answer pipes of closed FilePipes (all of them
// when the loop ends: all=true).
func (l *loop) sweepAnswers(all bool) {
	for p, a := range l.answers {
		if all || p.closed.Load() {
			a.close()
			delete(l.answers, p)
		}
	}
}
