package h1

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// bufferBeforeChunking is net/http's: a handler that sets no Content-Length
// and writes at most this much gets one computed; more is sent chunked.
const bufferBeforeChunking = 2048

// sniffLen is how much of a body net/http sniffs for a Content-Type.
const sniffLen = 512

// response is the lean loop's http.ResponseWriter. It writes the same bytes
// net/http's response would for the same calls: headers sorted by key, then
// Date, an automatic Content-Length, a sniffed Content-Type, Connection:
// close and Transfer-Encoding: chunked when net/http would add them. The
// header is fixed when WriteHeader is called (later changes are ignored, as
// documented for http.ResponseWriter). Trailers are not supported.
type response struct {
	c           *conn
	hdr         http.Header // the handler's map, reused between requests
	isHead      bool
	wantsClose  bool
	status      int
	wroteHeader bool // WriteHeader called
	committed   bool // head complete in c.out
	chunking    bool
	closeAfter  bool
	hasCL       bool // a valid Content-Length was set by the handler
	hasTE       bool
	sniff       bool // Content-Type may be sniffed from the body
	addClose    bool // commit adds Connection: close
	cl, written int64
	pend        []byte   // body bytes held back until the head is complete
	keys        []string // scratch for sorting header keys
	err         error    // first write error; the connection closes after it
}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ io.ReaderFrom       = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
	_ HeadBlockWriter     = (*response)(nil)
	_ FileSender          = (*response)(nil)
	_ Timer               = (*response)(nil)
	_ BodyCounter         = (*response)(nil)
	_ HeadFacts           = (*response)(nil)
)

// HeadFacts is implemented by the lean loop's ResponseWriter: what the
// parser learnt about the request, so a handler need not look again.
type HeadFacts interface {
	// Conditional reports whether the head carried a precondition
	// (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
	// If-Range) or a Range field. False means a handler may skip looking
	// for them in Request.Header, which it must not have changed.
	Conditional() bool
	// Peer is the client's address, Request.RemoteAddr parsed once per
	// connection rather than once per request.
	Peer() netip.AddrPort
}

// Conditional implements HeadFacts.
func (w *response) Conditional() bool { return w.c.p.cond }

// conditionalFields are the fields HeadFacts.Conditional reports on (the
// parser's switch in parseField names them too, to skip a loop per field).
var conditionalFields = [...]string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}

// Conditional is HeadFacts.Conditional worked out from h, for a handler
// whose writer does not have HeadFacts.
func Conditional(h http.Header) bool {
	for _, k := range conditionalFields {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// Peer implements HeadFacts.
func (w *response) Peer() netip.AddrPort {
	c := w.c
	if !c.peerOK {
		c.peer, _ = netip.ParseAddrPort(c.remote)
		c.peerOK = true
	}
	return c.peer
}

// Timer is implemented by the lean loop's ResponseWriter.
type Timer interface {
	// Received is when the request was read: the event loop reads the
	// clock once per wake-up, so a handler timing a request with it saves
	// a clock read (two on Linux, wall and monotonic) per request, and its
	// durations include the time the request waited behind others read in
	// the same wake-up.
	Received() time.Time
}

// Received implements Timer.
func (w *response) Received() time.Time { return w.c.now }

// BodyCounter is implemented by the lean loop's ResponseWriter.
type BodyCounter interface {
	// BodyBytes is how many body bytes the response has carried so far
	// (0 for HEAD): what an access log reports.
	BodyBytes() int64
}

// BodyBytes implements BodyCounter.
func (w *response) BodyBytes() int64 {
	if w.isHead {
		return 0
	}
	return w.written
}

// FileSender is implemented by the lean loop's ResponseWriter.
type FileSender interface {
	// SendFile writes n bytes of f starting at off, with sendfile(2) when
	// the response is neither HEAD nor chunked. Like pread it neither uses
	// nor moves f's offset, so one *os.File may serve many responses at
	// once. warm tells that f's pages were read moments ago (so sendfile
	// will not wait for the disk and may skip the scheduler's syscall
	// bookkeeping). f must be a regular file that stays open until
	// SendFile returns (the event loop uses its descriptor directly and
	// duplicates it for a range it has to queue). It returns the bytes
	// written.
	SendFile(f *os.File, off, n int64, warm bool) (int64, error)
	// SendPiped is SendFile(f, 0, p.Len(), warm) with the bytes taken
	// from p, a FilePipe of all of f, when the event loop can (tee and
	// splice, pipe_linux.go); from f otherwise, and for what the socket
	// did not take at once.
	SendPiped(p *FilePipe, f *os.File, warm bool) (int64, error)
}

// SendFile implements FileSender.
func (w *response) SendFile(f *os.File, off, n int64, warm bool) (int64, error) {
	return w.sendFile(f, nil, off, n, warm)
}

// SendPiped implements FileSender.
func (w *response) SendPiped(p *FilePipe, f *os.File, warm bool) (int64, error) {
	return w.sendFile(f, p, 0, p.Len(), warm)
}

// sendFile writes n bytes of f from off, from p when it is not nil.
func (w *response) sendFile(f *os.File, p *FilePipe, off, n int64, warm bool) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed && !w.sniff && w.hasCL && len(w.pend) == 0 {
		w.commitPending(nil) // the head is known whole: no need to wait for body bytes
	}
	if !w.committed || w.chunking || w.isHead || !bodyAllowed(w.status) || w.err != nil {
		return io.Copy(writerOnly{w}, io.NewSectionReader(f, off, n))
	}
	if w.cl != -1 && w.written+n > w.cl {
		return 0, http.ErrContentLength
	}
	sent, err := w.c.sendSection(f, p, off, n, warm)
	w.written += sent
	if err != nil && w.err == nil {
		w.err = err
	}
	return sent, err
}

// HeadBlockWriter is implemented by the lean loop's ResponseWriter. A
// handler that answers the same header many times can serialize it once
// with AppendFields and write it with WriteHeaderBlock: the bytes sent are
// those WriteHeader would have sent for that header.
type HeadBlockWriter interface {
	// WriteHeaderBlock is WriteHeader(status) for a header whose fields,
	// serialized by AppendFields, are block. That header must carry
	// Content-Type and "Content-Length: contentLength", and no Date,
	// Connection, Transfer-Encoding or trailer keys; status must allow a
	// body (not 1xx, 204 or 304). The map returned by Header is not sent.
	WriteHeaderBlock(status int, contentLength int64, block []byte)
}

// AppendFields appends h's fields as a response head carries them: sorted
// by key, invalid names dropped, CR and LF in values turned into spaces,
// values trimmed.
func AppendFields(dst []byte, h http.Header) []byte {
	w := response{hdr: h}
	return w.appendFields(dst, exclude{})
}

// WriteHeaderBlock implements HeadBlockWriter.
func (w *response) WriteHeaderBlock(status int, contentLength int64, block []byte) {
	if w.wroteHeader {
		w.c.srv.logf("http: superfluous response.WriteHeader call (status %d)", status)
		return
	}
	clear(w.hdr) // not sent: the block is the header
	w.wroteHeader, w.status = true, status
	w.cl, w.hasCL = contentLength, true
	w.closeAfter = w.wantsClose || w.c.srv.closing.Load()
	w.addClose = w.closeAfter
	w.c.headAt = len(w.c.out)
	w.c.out = appendStatusLine(w.c.out, status)
	w.c.out = append(w.c.out, block...)
	w.commit(nil, false)
}

// reset prepares w for the next request.
func (w *response) reset(isHead, wantsClose bool) {
	clear(w.hdr)
	*w = response{c: w.c, hdr: w.hdr, pend: w.pend[:0], keys: w.keys[:0], isHead: isHead, wantsClose: wantsClose, cl: -1}
}

// Header implements http.ResponseWriter.
func (w *response) Header() http.Header { return w.hdr }

// WriteHeader implements http.ResponseWriter: it writes the status line and
// the handler's headers; what depends on the body follows in commit.
func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		w.c.srv.logf("http: superfluous response.WriteHeader call (status %d)", code)
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.c.out = appendStatusLine(w.c.out, code)
		w.c.out = w.appendFields(w.c.out, exclude{cl: true, te: true})
		w.c.out = append(w.c.out, "\r\n"...)
		return
	}
	w.wroteHeader, w.status = true, code
	w.c.headAt = len(w.c.out)
	if v := get(w.hdr, "Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil && n >= 0 {
			w.cl, w.hasCL = n, true
		} else {
			w.c.srv.logf("http: invalid Content-Length of %q", v)
			delete(w.hdr, "Content-Length")
		}
	}
	w.c.out = appendStatusLine(w.c.out, code)
	w.c.out = w.appendFields(w.c.out, w.settle())
}

// settle decides, from the status and the header alone, which handler
// headers net/http would drop and whether the connection closes.
func (w *response) settle() exclude {
	var ex exclude
	te := get(w.hdr, "Transfer-Encoding")
	w.hasTE = te != ""
	body := bodyAllowed(w.status)
	w.closeAfter = w.wantsClose || get(w.hdr, "Connection") == "close" || w.c.srv.closing.Load()
	if !body {
		ex.cl, ex.te, ex.ct = true, true, w.status == http.StatusNotModified
	}
	_, haveType := w.hdr["Content-Type"]
	w.sniff = body && !haveType && !w.hasTE && get(w.hdr, "Content-Encoding") == ""
	if w.hasCL && w.hasTE && te != "identity" {
		w.c.srv.logf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.cl)
		ex.cl, w.hasCL = true, false
	}
	switch {
	case w.isHead || !body || w.status == http.StatusNoContent, w.hasCL:
		ex.te = true
	case w.hasTE && te == "identity":
		ex.te, w.closeAfter = true, true
	case w.hasTE && te == "chunked":
		ex.te = true // commit adds it back
	}
	if w.closeAfter && (w.c.srv.closing.Load() || !hasToken(get(w.hdr, "Connection"), "close")) {
		ex.conn, w.addClose = true, true
	}
	return ex
}

// commit completes the head: Date, the automatic Content-Length (when the
// handler is done), a sniffed Content-Type, Connection and
// Transfer-Encoding, then the blank line. p is the start of the body.
func (w *response) commit(p []byte, done bool) {
	w.committed = true
	out := w.c.out
	if _, ok := w.hdr["Date"]; !ok {
		out = appendDate(out, w.c.now)
	}
	body := bodyAllowed(w.status)
	_, setCL := w.hdr["Content-Length"]
	if done && !w.hasTE && body && !setCL && (!w.isHead || len(p) > 0) {
		w.cl, w.hasCL = int64(len(p)), true
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(len(p)), 10)
		out = append(out, "\r\n"...)
	}
	if w.sniff && len(p) > 0 {
		out = append(out, "Content-Type: "...)
		out = append(out, http.DetectContentType(p[:min(len(p), sniffLen)])...)
		out = append(out, "\r\n"...)
	}
	if w.addClose {
		out = append(out, "Connection: close\r\n"...)
	}
	w.chunking = !w.isHead && body && w.status != http.StatusNoContent && !w.hasCL &&
		!(w.hasTE && get(w.hdr, "Transfer-Encoding") == "identity")
	if w.chunking {
		out = append(out, "Transfer-Encoding: chunked\r\n"...)
	}
	w.c.out = append(out, "\r\n"...)
}

// Write implements http.ResponseWriter.
func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.cl != -1 && w.written > w.cl {
		return 0, http.ErrContentLength
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.committed {
		if len(w.pend)+len(p) <= bufferBeforeChunking {
			w.pend = append(w.pend, p...)
			return len(p), nil
		}
		w.commitPending(p)
	}
	w.emit(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// commitPending completes the head with the held-back bytes (followed by
// next, for sniffing) and sends them.
func (w *response) commitPending(next []byte) {
	sniff := w.pend
	if len(sniff) < sniffLen && len(next) > 0 {
		sniff = append(w.pend, next[:min(len(next), sniffLen-len(sniff))]...)
	}
	w.commit(sniff, false)
	w.emit(w.pend)
	w.pend = w.pend[:0]
}

// emit sends body bytes after the head: nothing for HEAD, chunk-framed
// when chunking.
func (w *response) emit(p []byte) {
	if w.isHead || len(p) == 0 || w.err != nil {
		return
	}
	if w.chunking {
		w.c.out = strconv.AppendInt(w.c.out, int64(len(p)), 16)
		w.c.out = append(w.c.out, "\r\n"...)
		w.c.out = append(w.c.out, p...)
		w.c.out = append(w.c.out, "\r\n"...)
		return
	}
	w.err = w.c.writeBody(p)
}

// ReadFrom sends src with sendfile when it is a file section and the
// response is neither chunked nor HEAD, as net/http does.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	var n int64
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed && (w.sniff || !w.hasCL) {
		n0, err := io.Copy(writerOnly{w}, io.LimitReader(src, sniffLen))
		n += n0
		if err != nil || n0 < sniffLen {
			return n, err
		}
	}
	if !w.committed {
		w.commitPending(nil)
	}
	if w.chunking || !bodyAllowed(w.status) || w.isHead || w.err != nil {
		n0, err := io.Copy(writerOnly{w}, src)
		return n + n0, err
	}
	n0, err := w.c.sendFrom(src)
	n += n0
	w.written += n0
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Flush implements http.Flusher.
func (w *response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commitPending(nil)
	}
	if w.err == nil {
		w.err = w.c.flush()
	}
}

// finish ends the response after the handler returned.
func (w *response) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pend, true)
		w.emit(w.pend)
	}
	if w.chunking && !w.isHead {
		w.c.out = append(w.c.out, "0\r\n\r\n"...)
	}
	if !w.isHead && w.cl != -1 && bodyAllowed(w.status) && w.cl != w.written {
		w.closeAfter = true
	}
	if w.err != nil {
		w.closeAfter = true
	}
}

// exclude names the handler headers net/http leaves out of a head.
type exclude struct{ cl, te, ct, conn bool }

func (ex exclude) has(k string) bool {
	switch k {
	case "Content-Length":
		return ex.cl
	case "Transfer-Encoding":
		return ex.te
	case "Content-Type":
		return ex.ct
	case "Connection":
		return ex.conn
	}
	return strings.HasPrefix(k, http.TrailerPrefix)
}

// appendFields writes the handler's headers sorted by key, dropping invalid
// names and turning CR/LF in values into spaces, like Header.Write.
func (w *response) appendFields(out []byte, ex exclude) []byte {
	keys := w.keys[:0]
	for k := range w.hdr {
		if !ex.has(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	w.keys = keys
	for _, k := range keys {
		if !validName(k) {
			continue
		}
		for _, v := range w.hdr[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
			}
			out = append(out, k...)
			out = append(out, ": "...)
			out = append(out, textproto.TrimString(v)...)
			out = append(out, "\r\n"...)
		}
	}
	return out
}

func appendStatusLine(out []byte, code int) []byte {
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(code), 10)
	if text := http.StatusText(code); text != "" {
		out = append(out, ' ')
		out = append(out, text...)
	} else {
		out = append(out, " status code "...)
		out = strconv.AppendInt(out, int64(code), 10)
	}
	return append(out, "\r\n"...)
}

func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !tokenByte(k[i]) {
			return false
		}
	}
	return true
}

// get is net/http's Header.get: the first value of an exact key.
func get(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func hasToken(v, token string) bool {
	for part := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(textproto.TrimString(part), token) {
			return true
		}
	}
	return false
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

// writerOnly hides ReadFrom so io.Copy takes the Write path.
type writerOnly struct{ io.Writer }

// dateLine caches the Date header line of the current second.
type dateLine struct {
	sec  int64
	line []byte
}

var dateCache atomic.Pointer[dateLine]

// appendDate appends "Date: <now in http.TimeFormat>\r\n".
func appendDate(out []byte, now time.Time) []byte {
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.sec == sec {
		return append(out, d.line...)
	}
	line := append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	line = append(line, "\r\n"...)
	dateCache.Store(&dateLine{sec: sec, line: line})
	return append(out, line...)
}
