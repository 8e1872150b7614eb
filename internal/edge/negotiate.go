package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// encodingRank orders equally acceptable encodings: br > zstd > gzip.
func encodingRank(enc string) int {
	switch enc {
	case "br":
		return 3
	case "zstd":
		return 2
	case "gzip":
		return 1
	}
	return 0
}

// chooseEncoding picks the precompressed variant of f the client accepts
// best (highest q-value, ties broken br > zstd > gzip), or nil for identity.
func chooseEncoding(f *File, acceptEncoding string) *Representation {
	if len(f.Encoded) == 0 || acceptEncoding == "" {
		return nil
	}
	var best *Representation
	bestQ, bestRank := 0.0, 0
	for i := range f.Encoded {
		r := &f.Encoded[i]
		q := acceptQ(acceptEncoding, r.Encoding)
		rank := encodingRank(r.Encoding)
		if q > bestQ || (q == bestQ && q > 0 && rank > bestRank) {
			best, bestQ, bestRank = r, q, rank
		}
	}
	return best
}

// acceptQ returns the q-value Accept-Encoding gives enc: its own entry, else
// "*", else 0. Malformed q-values count as 0.
func acceptQ(header, enc string) float64 {
	star := -1.0
	for header != "" {
		var item string
		item, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(item, ";")
		name = strings.TrimSpace(name)
		q := 1.0
		if params != "" {
			q = parseQ(params)
		}
		if strings.EqualFold(name, enc) {
			return q
		}
		if name == "*" {
			star = q
		}
	}
	if star >= 0 {
		return star
	}
	return 0
}

func parseQ(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

// etagListMatch reports whether an If-None-Match / If-Match list contains
// etag ("*" matches any). weak selects the weak comparison (If-None-Match);
// the strong one ignores W/ entries.
func etagListMatch(list, etag string, weak bool) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ",")
		item = strings.TrimSpace(item)
		if item == "*" {
			return true
		}
		if w, ok := strings.CutPrefix(item, "W/"); ok {
			if !weak {
				continue
			}
			item = w
		}
		if item == etag {
			return true
		}
	}
	return false
}

type condResult int

const (
	condNone        condResult = iota // serve normally
	condNotModified                   // 304
	condFailed                        // 412
)

// checkConditions evaluates RFC 9110 §13.2.2 preconditions for rep.
func checkConditions(r *http.Request, rep *Representation, mod time.Time) condResult {
	if im := headerValue(r, "If-Match"); im != "" {
		if !etagListMatch(im, rep.ETag, false) {
			return condFailed
		}
	} else if ius := headerValue(r, "If-Unmodified-Since"); ius != "" && !mod.IsZero() {
		if t, err := http.ParseTime(ius); err == nil && mod.After(t) {
			return condFailed
		}
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if inm := headerValue(r, "If-None-Match"); inm != "" {
		if etagListMatch(inm, rep.ETag, true) {
			if get {
				return condNotModified
			}
			return condFailed
		}
		return condNone
	}
	if ims := headerValue(r, "If-Modified-Since"); ims != "" && get && !mod.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return condNotModified
		}
	}
	return condNone
}

// byteRange is a satisfiable single range [start, start+length).
type byteRange struct{ start, length int64 }

// parseRange interprets a Range header for a body of size bytes. ok=false
// means "ignore the header and send 200" (absent, not bytes, several ranges,
// malformed); unsatisfiable=true means 416.
func parseRange(s string, size int64) (br byteRange, ok, unsatisfiable bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return br, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return br, false, false
	}
	if first == "" { // suffix: last N bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return br, false, false
		}
		if n == 0 || size == 0 {
			return br, false, true
		}
		n = min(n, size)
		return byteRange{size - n, n}, true, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return br, false, false
	}
	if start >= size {
		return br, false, true
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return br, false, false
		}
		end = min(e, size-1)
	}
	return byteRange{start, end - start + 1}, true, false
}

// ifRangeAllows reports whether a Range may be honoured given If-Range.
func ifRangeAllows(r *http.Request, rep *Representation, mod time.Time) bool {
	ir := headerValue(r, "If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) {
		return ir == rep.ETag
	}
	t, err := http.ParseTime(ir)
	return err == nil && !mod.IsZero() && mod.Equal(t)
}
