package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// param is a query parameter a page accepts and passes on to the API.
type param struct {
	name    string
	max     int      // longest value accepted
	digits  bool     // a positive number (ids, cursors, limits)
	allowed []string // when set, the only values accepted
}

// parseQuery keeps the parameters a page knows, checked, and drops the
// rest; empty values are left out. The result is safe to send to the API
// and to put in the page's own links. A bad value is a 400 naming it.
func parseQuery(q url.Values, params []param) (url.Values, error) {
	out := url.Values{}
	for _, p := range params {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		if err := p.check(v); err != "" {
			return nil, &apiError{Status: http.StatusBadRequest, Code: "invalid",
				Message: "query parameter " + p.name + " " + strconv.Quote(v) + ": " + err}
		}
		out.Set(p.name, v)
	}
	return out, nil
}

// check returns what is wrong with v, or "".
func (p param) check(v string) string {
	if len(v) > p.max {
		return "longer than " + strconv.Itoa(p.max) + " characters"
	}
	if p.allowed != nil && !slices.Contains(p.allowed, v) {
		return "want one of " + strings.Join(p.allowed, ", ")
	}
	if p.digits {
		if n, err := strconv.ParseUint(v, 10, 63); err != nil || n == 0 {
			return "want a positive number"
		}
		return ""
	}
	for _, c := range v {
		if !unicode.IsPrint(c) {
			return "has a character that is not printable"
		}
	}
	return ""
}
