package h1

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Several loops share the listener (EPOLLEXCLUSIVE wakes one of those
// waiting), but which loop wins an accept is a matter of timing: measured
// with two loops and 64 connections opened at once, splits of 43/21 and
// 59/5 were common, and the loop holding most connections sets the tail
// latency while the other idles. So whichever loop accepts gives the
// connection to the loop serving the fewest (ties: itself), as nginx's
// workers are balanced by accept_mutex and ngx_accept_disabled. Handing
// over costs a lock and an eventfd write per new connection, nothing per
// request.

// acceptBurst bounds the connections one readiness of the listener takes.
const acceptBurst = 64

// handoff is an accepted connection on its way to the loop that serves it.
type handoff struct {
	fd     int
	remote string
	peer   netip.AddrPort // what Server.Gate (if any) admitted
}

// leastLoaded is the loop with the fewest connections, l on a tie.
func (l *loop) leastLoaded() *loop {
	best, least := l, l.load.Load()
	for _, p := range l.peers {
		if n := p.load.Load(); n < least {
			best, least = p, n
		}
	}
	return best
}

// give queues h for l and wakes it; false when l has stopped.
func (l *loop) give(h handoff) bool {
	l.inMu.Lock()
	defer l.inMu.Unlock()
	if l.exited {
		return false
	}
	l.load.Add(1)
	l.inbox = append(l.inbox, h)
	l.wakeUp()
	return true
}

// adoptInbox serves the connections other loops handed over.
func (l *loop) adoptInbox() {
	l.inMu.Lock()
	in := l.inbox
	l.inbox = nil
	l.inMu.Unlock()
	for _, h := range in {
		l.load.Add(-1)
		l.adopt(h)
	}
}

// adopt starts serving h on l.
func (l *loop) adopt(h handoff) {
	if err := l.ctl(unix.EPOLL_CTL_ADD, h.fd, unix.EPOLLIN); err != nil {
		unix.Close(h.fd)
		l.srv.release(h.peer)
		l.srv.logf("http: %v", err)
		return
	}
	c := newConnState(l.srv, h.remote)
	c.gated, c.gatePeer = l.srv.Gate != nil, h.peer
	c.ls = loopState{lp: l, fd: h.fd}
	c.ls.deadline = l.after(l.srv.headerTimeout)
	for h.fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, max(len(l.conns), 64))...)
	}
	l.conns[h.fd] = c
	l.live++
	l.load.Add(1)
	l.srv.open.Add(1)
	l.srv.accepted.Add(1)
}

// exit refuses further handovers and closes those not adopted.
func (l *loop) exit() {
	l.inMu.Lock()
	in := l.inbox
	l.inbox, l.exited = nil, true
	l.inMu.Unlock()
	for _, h := range in {
		unix.Close(h.fd)
		l.srv.release(h.peer)
	}
}
