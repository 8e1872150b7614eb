package edge

import (
	"io"
	"net/http"
	"sync/atomic"
	"unsafe"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// headBlock is a representation's serialized response header for one
// handler, decision header set, content type and status: what fileHeaders
// plus Content-Length produce, as h1.AppendFields writes it.
type headBlock struct {
	h      *Handler
	rules  unsafe.Pointer // identity of the Decision's (shared, read-only) header map
	rm     ruleMatch      // the project's header rules applied (policy identity and which rules), and HTTPS-only ones
	ctype  string         // Decision.ContentType
	status int
	fields []byte
}

// blockCache holds the last headBlock built for a representation. One
// entry is enough: a file is nearly always answered the same way.
type blockCache struct{ last atomic.Pointer[headBlock] }

// plainFileRequest reports whether a full-body answer with no
// precondition or range to evaluate is due, on an untouched header.
func plainFileRequest(w http.ResponseWriter, r *http.Request, status int) bool {
	if len(w.Header()) != 0 || status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		return false
	}
	if status != http.StatusOK {
		return true // error pages ignore preconditions and Range
	}
	if hf, ok := w.(h1.HeadFacts); ok {
		return !hf.Conditional() // the parser saw the fields go by
	}
	return !h1.Conditional(r.Header)
}

// serveBlock answers a plain file request on the lean loop: the header
// block is built once per representation and reused, so the common
// request builds no header map at all.
func (h *Handler) serveBlock(bw h1.HeadBlockWriter, r *http.Request, rel *release, f *File, rep *Representation, c *repCache, status int, d *swa.Decision, rm *ruleMatch) (int, int64) {
	rules := *(*unsafe.Pointer)(unsafe.Pointer(&d.Header))
	b := c.blocks.last.Load()
	if b == nil || b.h != h || b.rules != rules || b.ctype != d.ContentType || b.status != status || b.rm != rm.key() {
		hd := http.Header{}
		h.fileHeaders(hd, f, rep, c, status, d, rm)
		hd["Content-Length"] = c.length
		b = &headBlock{h: h, rules: rules, rm: rm.key(), ctype: d.ContentType, status: status, fields: h1.AppendFields(nil, hd)}
		c.blocks.last.Store(b)
	}
	w := bw.(http.ResponseWriter)
	if r.Method == http.MethodHead {
		bw.WriteHeaderBlock(status, rep.Size, b.fields)
		return status, 0
	}
	if fs, ok := bw.(h1.FileSender); ok && rep.Size >= sendfileMin {
		file, pipe, warm, mine, err := rel.fds.get(rep.Blob, rep.Size, received(w), rel.site.Open)
		if err != nil {
			h.opts.Logger.Error("edge: open release file", "release", rel.site.ID(), "err", err)
			return plain(w, http.StatusInternalServerError, "internal error"), 0
		}
		if mine {
			defer file.Close()
		}
		bw.WriteHeaderBlock(status, rep.Size, b.fields)
		if pipe != nil {
			n, _ := fs.SendPiped(pipe, file, warm)
			return status, n
		}
		n, _ := fs.SendFile(file, 0, rep.Size, warm)
		return status, n
	}
	if body := h.smallBody(rel, rep, c); body != nil {
		bw.WriteHeaderBlock(status, rep.Size, b.fields)
		n, _ := w.Write(body)
		return status, int64(n)
	}
	file, err := h.openAt(rel, rep, 0)
	if err != nil {
		return plain(w, http.StatusInternalServerError, "internal error"), 0
	}
	defer file.Close()
	bw.WriteHeaderBlock(status, rep.Size, b.fields)
	n, _ := io.Copy(w, &io.LimitedReader{R: file, N: rep.Size}) // sendfile
	return status, n
}
