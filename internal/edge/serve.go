package edge

import (
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

const (
	// smallFileMax is the largest body the edge keeps in memory after its
	// first read; larger bodies always go out with sendfile.
	smallFileMax = 64 << 10
	// smallCacheBudget bounds the cached small bodies of one release.
	smallCacheBudget = 64 << 20
)

// replacePlatformDefault sets Cache-Control to v where it is swa's
// platform default (what Azure sends): that default is the edge's call,
// a config's own Cache-Control is kept.
func replacePlatformDefault(hd map[string][]string, v []string) {
	if cc := hd["Cache-Control"]; len(cc) == 1 && cc[0] == swaDefaultCacheControl {
		hd["Cache-Control"] = v
	}
}

// swaDefaultCacheControl is the platform default swa puts on every
// successful response. The edge replaces it with its own policy (immutable
// fingerprinted assets, revalidated HTML); any other value from
// globalHeaders or a route wins.
const swaDefaultCacheControl = "must-revalidate, max-age=30"

var (
	varyAE      = []string{"Accept-Encoding"}
	acceptBytes = []string{"bytes"}
)

// headersOf returns the precomputed header values of rep, building them on
// first use.
func headersOf(f *File, rep *Representation) *repCache {
	if c := rep.cache.Load(); c != nil {
		return c
	}
	c := &repCache{
		etag:         []string{rep.ETag},
		length:       []string{strconv.FormatInt(rep.Size, 10)},
		ctype:        []string{f.ContentType},
		cacheControl: []string{CacheControlFor(f.Path)},
		blocks:       &blockCache{},
	}
	if !f.ModTime.IsZero() {
		c.modified = []string{f.ModTime.UTC().Format(http.TimeFormat)}
	}
	if rep.Encoding != "" {
		c.encoding = []string{rep.Encoding}
	}
	rep.cache.CompareAndSwap(nil, c)
	return rep.cache.Load()
}

// serveFile sends f with status. A 200 honours conditional requests and
// Range and picks a precompressed variant; other statuses (error pages,
// rewrites with a status) send the full identity-or-variant body.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, rel *release, f *File, status int, d *swa.Decision, rm *ruleMatch) (int, int64) {
	rep := &f.Identity
	if v := chooseEncoding(f, headerValue(r, "Accept-Encoding")); v != nil {
		rep = v
	}
	c := headersOf(f, rep)
	if bw, ok := w.(h1.HeadBlockWriter); ok && plainFileRequest(w, r, status) {
		return h.serveBlock(bw, r, rel, f, rep, c, status, d, rm)
	}
	hd := w.Header()
	h.fileHeaders(hd, f, rep, c, status, d, rm)
	if status != http.StatusOK {
		return h.sendBody(w, r, rel, rep, c, status, byteRange{0, rep.Size})
	}
	switch checkConditions(r, rep, f.ModTime) {
	case condNotModified:
		delete(hd, "Content-Type")
		delete(hd, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, 0
	case condFailed:
		return plain(w, http.StatusPreconditionFailed, "precondition failed"), 0
	}
	return h.serveRange(w, r, rel, rep, c, f)
}

// fileHeaders sets the headers of a full-body answer with f's
// representation rep (Content-Length aside): Options.Headers, the file's
// own, the site's rules' and last the project's header rules rm.
func (h *Handler) fileHeaders(hd http.Header, f *File, rep *Representation, c *repCache, status int, d *swa.Decision, rm *ruleMatch) {
	h.applyRules(hd, f.Path, rm)
	hd["Content-Type"] = c.ctype
	if d.ContentType != "" {
		hd["Content-Type"] = []string{d.ContentType}
	}
	if len(f.Encoded) > 0 {
		hd["Vary"] = varyAE
	}
	if c.encoding != nil {
		hd["Content-Encoding"] = c.encoding
	}
	if status != http.StatusOK {
		hd["Cache-Control"] = noStore
		applyDecisionHeaders(hd, d.Header)
		replacePlatformDefault(hd, noStore) // a route's own statusCode (418 with a rewrite): not content to keep
		rm.apply(hd)
		return
	}
	hd["Etag"] = c.etag
	if c.modified != nil {
		hd["Last-Modified"] = c.modified
	}
	hd["Accept-Ranges"] = acceptBytes
	applyDecisionHeaders(hd, d.Header)
	if len(hd["Cache-Control"]) == 0 {
		hd["Cache-Control"] = c.cacheControl
	}
	replacePlatformDefault(hd, c.cacheControl)
	rm.apply(hd)
}

// serveRange sends the whole representation or the requested byte range.
func (h *Handler) serveRange(w http.ResponseWriter, r *http.Request, rel *release, rep *Representation, c *repCache, f *File) (int, int64) {
	rh := headerValue(r, "Range")
	if rh == "" || !ifRangeAllows(r, rep, f.ModTime) {
		return h.sendBody(w, r, rel, rep, c, http.StatusOK, byteRange{0, rep.Size})
	}
	br, ok, unsat := parseRange(rh, rep.Size)
	switch {
	case unsat:
		w.Header()["Content-Range"] = []string{"bytes */" + strconv.FormatInt(rep.Size, 10)}
		return plain(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable"), 0
	case !ok:
		return h.sendBody(w, r, rel, rep, c, http.StatusOK, byteRange{0, rep.Size})
	}
	w.Header()["Content-Range"] = []string{"bytes " + strconv.FormatInt(br.start, 10) + "-" +
		strconv.FormatInt(br.start+br.length-1, 10) + "/" + strconv.FormatInt(rep.Size, 10)}
	return h.sendBody(w, r, rel, rep, c, http.StatusPartialContent, br)
}

// sendBody writes the headers and the bytes [br.start, br.start+br.length)
// of rep: from memory for small cached bodies, else with sendfile.
func (h *Handler) sendBody(w http.ResponseWriter, r *http.Request, rel *release, rep *Representation, c *repCache, status int, br byteRange) (int, int64) {
	hd := w.Header()
	if br.length == rep.Size {
		hd["Content-Length"] = c.length
	} else {
		hd["Content-Length"] = []string{strconv.FormatInt(br.length, 10)}
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return status, 0
	}
	if fs, ok := w.(h1.FileSender); ok && br.length >= sendfileMin {
		file, pipe, warm, mine, err := rel.fds.get(rep.Blob, rep.Size, received(w), rel.site.Open)
		if err == nil {
			if mine {
				defer file.Close()
			}
			w.WriteHeader(status)
			if pipe != nil && br.start == 0 && br.length == rep.Size {
				n, _ := fs.SendPiped(pipe, file, warm)
				return status, n
			}
			n, _ := fs.SendFile(file, br.start, br.length, warm)
			return status, n
		}
	}
	if body := h.smallBody(rel, rep, c); body != nil {
		w.WriteHeader(status)
		n, _ := w.Write(body[br.start : br.start+br.length])
		return status, int64(n)
	}
	file, err := h.openAt(rel, rep, br.start)
	if err != nil {
		delete(hd, "Content-Length")
		delete(hd, "Content-Encoding")
		return plain(w, http.StatusInternalServerError, "internal error"), 0
	}
	defer file.Close()
	w.WriteHeader(status)
	n, _ := io.Copy(w, &io.LimitedReader{R: file, N: br.length}) // sendfile via the conn's ReadFrom
	return status, n
}

// openAt opens rep's blob positioned at offset; errors are logged.
func (h *Handler) openAt(rel *release, rep *Representation, offset int64) (*os.File, error) {
	file, err := rel.site.Open(rep.Blob)
	if err != nil {
		h.opts.Logger.Error("edge: open release file", "release", rel.site.ID(), "err", err)
		return nil, err
	}
	if offset > 0 {
		if _, err := file.Seek(offset, io.SeekStart); err != nil {
			file.Close()
			h.opts.Logger.Error("edge: seek release file", "release", rel.site.ID(), "err", err)
			return nil, err
		}
	}
	return file, nil
}

// smallBody returns rep's bytes from memory, loading them on first use when
// rep is small and the release's cache budget allows; nil otherwise.
func (h *Handler) smallBody(rel *release, rep *Representation, c *repCache) []byte {
	if c.body != nil || rep.Size > smallFileMax {
		return c.body
	}
	if rel.cacheLeft.Add(-rep.Size) < 0 {
		rel.cacheLeft.Add(rep.Size)
		return nil
	}
	body, err := readBlob(rel.site, rep)
	if err != nil {
		rel.cacheLeft.Add(rep.Size)
		return nil // the sendfile path reports the error
	}
	next := *c
	next.body = body
	if !rep.cache.CompareAndSwap(c, &next) {
		rel.cacheLeft.Add(rep.Size) // another request cached it first
	}
	return body
}

func readBlob(s Site, rep *Representation) ([]byte, error) {
	f, err := s.Open(rep.Blob)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body := make([]byte, rep.Size)
	if _, err := io.ReadFull(f, body); err != nil {
		return nil, err
	}
	return body, nil
}

// headerValue reads a request header by its canonical name without the
// canonicalization cost of Header.Get.
func headerValue(r *http.Request, canonical string) string {
	if v := r.Header[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}
