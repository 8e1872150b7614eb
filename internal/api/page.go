package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Page is one page of a list. NextCursor, when set, is passed back as
// ?cursor= for the next page; it is opaque to clients.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Page size bounds.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

var pageParams = []Param{
	numberParam("limit", "page size (default 100, at most 1000)"),
	textParam("cursor", "next_cursor of the previous page"),
}

type pageReq struct {
	limit  int
	cursor string
}

func readPage(r *http.Request) (pageReq, error) {
	q := r.URL.Query()
	limit, err := pageLimit(q, DefaultPageSize)
	return pageReq{limit: limit, cursor: q.Get("cursor")}, err
}

// pageLimit reads the query's limit: def when it is left out, at most
// MaxPageSize.
func pageLimit(q url.Values, def int) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return def, usererr.New(usererr.Invalid, "limit %q: want a positive number", s)
	}
	return min(n, MaxPageSize), nil
}

// badCursor is the refusal of a cursor c the endpoint did not issue
// (its form is the endpoint's own: it names no other).
func badCursor(c string) error {
	return usererr.New(usererr.Invalid, "query parameter cursor %q is not one this endpoint issued", clip(c, maxShown)).
		WithHint("pass the next_cursor of the page before, or start again without ?cursor")
}

// paginate returns the page of items (in their order) that come after the
// cursor, as told by after, with the key of its last item as next cursor.
func paginate[T any](items []T, p pageReq, key func(T) string, after func(T) bool) Page[T] {
	out := Page[T]{Items: []T{}}
	for _, it := range items {
		if !after(it) {
			continue
		}
		if len(out.Items) == p.limit {
			out.NextCursor = key(out.Items[len(out.Items)-1])
			break
		}
		out.Items = append(out.Items, it)
	}
	return out
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return usererr.Wrap(usererr.Invalid, err, "request body: "+err.Error())
	}
	return nil
}
