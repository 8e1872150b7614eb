package waf

import (
	"cmp"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// CustomRule is one of phoenix.yaml's edge.waf.custom_rules: when every
// condition of Match holds, Action applies. Rules run in ascending
// Priority, before bad-bots, scanners and owasp-core (docs/waf.md).
type CustomRule struct {
	Name     string      // a slug; reported as "custom-<name>"
	Priority int         // unique, ascending order of evaluation
	Action   string      // block, allow (skip the later checks) or log
	Match    []Condition // all must hold; at least one
}

// Condition tests one part of a request.
type Condition struct {
	// Variable: remote_addr, request_method, request_uri (path and query as
	// sent), path (decoded), query_string, user_agent, header:NAME or
	// cookie:NAME.
	Variable string
	// Operator: equals, contains, begins_with, ends_with, regex (Go RE2),
	// ip_match (remote_addr only: addresses or CIDR ranges) or any (the
	// variable exists; no values).
	Operator string
	Values   []string // the condition holds when any value matches
	Negate   bool     // holds when no value matches
	// Transforms apply to the request's value, in order, before the
	// comparison: lowercase, trim, url_decode. Values are compared as written.
	Transforms []string
}

// Custom rule actions.
const (
	ActionBlock = "block"
	ActionAllow = "allow"
	ActionLog   = "log"
)

// Limits of custom rules, so that all of them stay cheap enough for the
// edge's event loop (docs/waf.md, BenchmarkCustomRules).
const (
	MaxCustomRules = 100  // rules per policy
	MaxConditions  = 10   // conditions per rule
	MaxValues      = 100  // values per condition
	MaxValueLen    = 1024 // bytes of one value
	MaxRegexLen    = 512  // bytes of one regex value
)

// customRule is a CustomRule checked and compiled.
type customRule struct {
	id     string // "custom-<name>"
	action string
	conds  []*condition
	prio   int
}

// matches reports whether every condition holds for r.
func (c *customRule) matches(r *http.Request, client netip.Addr) bool {
	for _, k := range c.conds {
		if !k.holds(r, client) {
			return false
		}
	}
	return true
}

// condition is a Condition compiled.
type condition struct {
	single     single // a variable with one value, or nil
	multi      source // a header or cookie, or nil
	op         string
	values     []string
	rx         []*regexp.Regexp
	prefixes   []netip.Prefix
	negate     bool
	transforms []func(string) string
}

// holds reports whether the condition holds: any value of the variable
// matches any operand, inverted by negate. A missing variable matches
// nothing (so a negated condition on it holds).
func (k *condition) holds(r *http.Request, client netip.Addr) bool {
	if k.op == opIPMatch {
		return k.ipMatch(client) != k.negate
	}
	if k.single != nil {
		v, ok := k.single(r)
		if k.op == opAny || !ok {
			return ok != k.negate
		}
		return k.test(v) != k.negate
	}
	vals, ok := k.multi(r)
	if k.op == opAny {
		return ok != k.negate
	}
	for _, v := range vals {
		if k.test(v) {
			return !k.negate
		}
	}
	return k.negate
}

// test transforms one value of the variable and compares it.
func (k *condition) test(v string) bool {
	for _, t := range k.transforms {
		v = t(v)
	}
	return k.compare(v)
}

func (k *condition) ipMatch(client netip.Addr) bool {
	if !client.IsValid() {
		return false
	}
	client = client.Unmap()
	for _, p := range k.prefixes {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

func (k *condition) compare(v string) bool {
	if k.op == opRegex {
		for _, rx := range k.rx {
			if rx.MatchString(v) {
				return true
			}
		}
		return false
	}
	cmp := operators[k.op]
	for _, want := range k.values {
		if cmp(v, want) {
			return true
		}
	}
	return false
}

// Operators.
const (
	opEquals     = "equals"
	opContains   = "contains"
	opBeginsWith = "begins_with"
	opEndsWith   = "ends_with"
	opRegex      = "regex"
	opIPMatch    = "ip_match"
	opAny        = "any"
)

// OperatorNames lists the operators in the order docs/waf.md gives them.
var OperatorNames = []string{opEquals, opContains, opBeginsWith, opEndsWith, opRegex, opIPMatch, opAny}

var operators = map[string]func(v, want string) bool{
	opEquals:     func(v, want string) bool { return v == want },
	opContains:   strings.Contains,
	opBeginsWith: strings.HasPrefix,
	opEndsWith:   strings.HasSuffix,
}

// TransformNames lists the transforms.
var TransformNames = []string{"lowercase", "trim", "url_decode"}

var transforms = map[string]func(string) string{
	"lowercase":  strings.ToLower,
	"trim":       strings.TrimSpace,
	"url_decode": urlDecode,
}

// VariableNames lists the variables; header: and cookie: take a name.
var VariableNames = []string{"remote_addr", "request_method", "request_uri", "path", "query_string", "user_agent",
	"header:NAME", "cookie:NAME"}

// single reads a variable with one value; source one with any number.
type (
	single = func(r *http.Request) (string, bool)
	source = func(r *http.Request) ([]string, bool)
)

var singles = map[string]single{
	"request_method": func(r *http.Request) (string, bool) { return r.Method, true },
	"request_uri":    func(r *http.Request) (string, bool) { return requestURI(r), true },
	"path": func(r *http.Request) (string, bool) {
		if r.URL == nil {
			return "", false
		}
		return r.URL.Path, true
	},
	"query_string": func(r *http.Request) (string, bool) {
		if r.URL == nil || r.URL.RawQuery == "" && !r.URL.ForceQuery {
			return "", false
		}
		return r.URL.RawQuery, true
	},
}

// setVariable sets how k reads variable from a request; false when it is
// not a variable (remote_addr reads nothing: ip_match takes the client).
func (k *condition) setVariable(variable string) bool {
	if variable == "remote_addr" {
		return true
	}
	if s, ok := singles[variable]; ok {
		k.single = s
		return true
	}
	if variable == "user_agent" {
		k.multi = headerSource("User-Agent")
		return true
	}
	if name, ok := strings.CutPrefix(variable, "header:"); ok && isToken(name) {
		k.multi = headerSource(http.CanonicalHeaderKey(name))
		return true
	}
	if name, ok := strings.CutPrefix(variable, "cookie:"); ok && isToken(name) {
		k.multi = cookieSource(name)
		return true
	}
	return false
}

func headerSource(canonical string) source {
	return func(r *http.Request) ([]string, bool) {
		v, ok := r.Header[canonical]
		return v, ok
	}
}

func cookieSource(name string) source {
	return func(r *http.Request) ([]string, bool) {
		var out []string
		for _, c := range r.CookiesNamed(name) {
			out = append(out, c.Value)
		}
		return out, len(out) > 0
	}
}

// isToken reports whether s is an RFC 9110 token (a header or cookie name).
func isToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+.^_`|~-", c) >= 0) {
			return false
		}
	}
	return true
}

// urlDecode decodes %XX escapes and '+' as a space, leaving malformed
// escapes as they are (ModSecurity's t:urlDecode).
func urlDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// sortRules orders compiled rules by priority.
func sortRules(rules []*customRule) {
	slices.SortStableFunc(rules, func(a, b *customRule) int { return cmp.Compare(a.prio, b.prio) })
}
