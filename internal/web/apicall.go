package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
)

// maxAPIBody bounds what one in-process API answer may hold (a run's
// logs are capped separately, below this).
const maxAPIBody = 16 << 20

// apiError is an API answer other than 2xx: its status and the API's own
// error body, shown to the user as the API wrote it.
type apiError struct {
	Status                         int
	Code, Message, Hint, RequestID string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// recorder is the http.ResponseWriter the API writes an in-process answer to.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	// tail, when set, keeps only the last tail bytes of the answer, however
	// long (a run's log); cut tells whether bytes were dropped.
	tail int
	cut  bool
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.tail > 0 {
		return rec.writeTail(p)
	}
	if rec.body.Len()+len(p) > maxAPIBody {
		return 0, fmt.Errorf("web: API answer over %d bytes", maxAPIBody)
	}
	return rec.body.Write(p)
}

// writeTail appends p and, past twice the tail, drops all but the tail.
func (rec *recorder) writeTail(p []byte) (int, error) {
	rec.body.Write(p)
	if rec.body.Len() > 2*rec.tail {
		rec.keepTail()
	}
	return len(p), nil
}

func (rec *recorder) keepTail() {
	if b := rec.body.Bytes(); len(b) > rec.tail {
		keep := bytes.Clone(b[len(b)-rec.tail:])
		rec.body.Reset()
		rec.body.Write(keep)
		rec.cut = true
	}
}

// Flush is a no-op: the answer is whole in memory when the API returns,
// and an API handler that flushes as it streams (a run's logs) must not
// see the in-process call as a broken connection.
func (rec *recorder) Flush() {}

// call sends one request to the API on behalf of the browser's request r:
// its session cookie (and, for a change, the CSRF token the caller
// checked), its address and context. A 2xx answer is decoded into out
// (when not nil); any other is returned as *apiError.
func (d *Dashboard) call(r *http.Request, s session, method, path string, in, out any) (*recorder, error) {
	return d.send(r, s, method, path, in, out, &recorder{header: http.Header{}})
}

// callTail GETs path as call does, keeping only the last n bytes of the
// answer (a run's log of any length); rec.cut tells whether it is cut.
func (d *Dashboard) callTail(r *http.Request, s session, path string, n int) (*recorder, error) {
	return d.send(r, s, http.MethodGet, path, nil, nil, &recorder{header: http.Header{}, tail: n})
}

// send is call with the recorder to take the answer.
func (d *Dashboard) send(r *http.Request, s session, method, path string, in, out any, rec *recorder) (*recorder, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, body)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.secret != "" {
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: s.secret})
	}
	if method != http.MethodGet && s.csrf != "" {
		req.Header.Set(api.CSRFHeader, s.csrf)
	}
	d.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status < 200 || rec.status > 299 {
		return rec, decodeAPIError(rec)
	}
	if rec.tail > 0 {
		rec.keepTail()
	}
	if out != nil && rec.status != http.StatusNoContent {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return rec, fmt.Errorf("web: decode %s %s: %w", method, path, err)
		}
	}
	return rec, nil
}

func decodeAPIError(rec *recorder) error {
	var body api.Error
	if strings.HasPrefix(rec.header.Get("Content-Type"), "application/json") {
		json.Unmarshal(rec.body.Bytes(), &body)
	}
	e := &apiError{Status: rec.status, Code: body.Code, Message: body.Message, Hint: body.Hint, RequestID: body.RequestID}
	if e.Message == "" {
		e.Message = http.StatusText(rec.status)
	}
	return e
}

// callAll GETs every page of one of the API's paged lists at path with
// the query q (its cursor is set here).
func callAll[T any](d *Dashboard, r *http.Request, s session, path string, q url.Values) ([]T, error) {
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", strconv.Itoa(api.MaxPageSize))
	var out []T
	for {
		var page api.Page[T]
		if _, err := d.call(r, s, http.MethodGet, path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}
