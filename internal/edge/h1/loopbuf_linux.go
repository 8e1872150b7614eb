package h1

import "net/http"

// A loop serves one connection at a time, so the memory a request needs
// while it is served — the read buffer, the output buffer, the header
// maps, the parser's and the writer's scratch — is the loop's, lent to the
// connection an event is for and taken back when the event is done. An
// idle keep-alive connection then holds none of it (nginx frees its
// buffers between requests the same way): about 0.75 KB in all instead of
// 10 KB (bench/edge/RESULTS-edge.md, session 10). A
// connection keeps a read buffer of its own only while it has bytes not
// yet served: a head that has not fully arrived, or pipelined requests
// waiting behind output the client has not taken.

// spareBufs is how many own read buffers a loop keeps for reuse.
const spareBufs = 16

// scratch is the request memory a loop lends.
type scratch struct {
	buf  []byte      // read buffer, for a connection without bytes waiting
	out  []byte      // response bytes not yet written
	hdr  http.Header // request header fields
	seen []string    // parseHead's scratch
	rhdr http.Header // the handler's response header map
	pend []byte      // response body held back until the head is complete
	keys []string    // response header keys, sorted
	bufs [][]byte    // spare own read buffers
}

func newScratch() scratch {
	return scratch{buf: make([]byte, readBufSize), out: make([]byte, 0, 4096),
		hdr: http.Header{}, seen: make([]string, 0, 16), rhdr: http.Header{}}
}

// lend gives c the loop's request memory for one event.
func (l *loop) lend(c *conn) {
	s := &l.scratch
	if c.buf == nil {
		c.buf, c.r, c.w, c.ls.lent = s.buf, 0, 0, true
	}
	c.out = s.out[:0]
	c.hdr, c.seen = s.hdr, s.seen[:0]
	c.resp.hdr, c.resp.pend, c.resp.keys = s.rhdr, s.pend[:0], s.keys[:0]
}

// park takes the loop's memory back from c after an event (c may be
// closed or handed over by then), keeping slices that grew. Bytes not yet
// served move to a buffer of c's own; an own buffer with nothing left in
// it goes back to the spares.
func (l *loop) park(c *conn) {
	s := &l.scratch
	s.out, s.seen = c.out[:0], c.seen[:0]
	s.pend, s.keys = c.resp.pend[:0], c.resp.keys[:0]
	c.out, c.hdr, c.seen = nil, nil, nil
	c.resp.hdr, c.resp.pend, c.resp.keys = nil, nil, nil
	switch live := l.conns[c.ls.fd] == c; {
	case !live || c.r == c.w:
		if !c.ls.lent && c.buf != nil && len(s.bufs) < spareBufs {
			s.bufs = append(s.bufs, c.buf)
		}
		c.buf, c.r, c.w = nil, 0, 0
	case c.ls.lent:
		b := l.ownBuf()
		c.w = copy(b, c.buf[c.r:c.w])
		c.buf, c.r = b, 0
	}
	c.ls.lent = false
}

// ownBuf is a read buffer for a connection to keep.
func (l *loop) ownBuf() []byte {
	s := &l.scratch
	if n := len(s.bufs); n > 0 {
		b := s.bufs[n-1]
		s.bufs = s.bufs[:n-1]
		return b
	}
	return make([]byte, readBufSize)
}
