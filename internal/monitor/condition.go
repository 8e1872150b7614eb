package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// CheckedCondition is a condition with its outcome.
type CheckedCondition struct {
	Condition string `json:"condition"`
	OK        bool   `json:"ok"`
	Got       string `json:"got"` // the left-hand side's value, clipped
}

// observed is what conditions are evaluated against.
type observed struct {
	status     int
	elapsed    time.Duration
	body       []byte
	header     http.Header
	connected  bool
	ip         string
	certExpiry time.Duration
	hasCert    bool
}

// evaluate checks every condition; ok is true when all hold.
func evaluate(conds []config.Condition, o *observed) ([]CheckedCondition, bool) {
	out := make([]CheckedCondition, len(conds))
	all := true
	for i, c := range conds {
		got, ok := check(c, o)
		out[i] = CheckedCondition{Condition: c.String(), OK: ok, Got: clip(got, 120)}
		all = all && ok
	}
	return out, all
}

func check(c config.Condition, o *observed) (string, bool) {
	switch c.Type {
	case "status":
		got := strconv.Itoa(o.status)
		return got, compare(got, c.Operator, c.Value)
	case "response_time":
		want, err := millis(c.Value)
		if err != nil {
			return "", false
		}
		ms := float64(o.elapsed) / float64(time.Millisecond)
		return strconv.FormatFloat(ms, 'f', 0, 64), compareFloat(ms, c.Operator, want)
	case "certificate_expiration":
		if !o.hasCert {
			return "no certificate", false
		}
		want, err := millis(c.Value)
		if err != nil {
			return "", false
		}
		ms := float64(o.certExpiry) / float64(time.Millisecond)
		return config.FormatDuration(o.certExpiry.Round(time.Hour)), compareFloat(ms, c.Operator, want)
	case "connected":
		got := strconv.FormatBool(o.connected)
		return got, compare(got, c.Operator, c.Value)
	case "ip":
		return o.ip, compare(o.ip, c.Operator, c.Value)
	case "header":
		return checkValue(c, o.header.Get(c.Path), true)
	case "body":
		return checkBody(c, o.body)
	}
	return "", false
}

func checkBody(c config.Condition, body []byte) (string, bool) {
	if c.Path == "" {
		return checkValue(c, string(body), true)
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		if c.Func == "has" {
			return "not JSON", compare("false", c.Operator, c.Value)
		}
		return "not JSON", false
	}
	v, found := jsonPath(doc, c.Path)
	if c.Func == "has" {
		got := strconv.FormatBool(found)
		return got, compare(got, c.Operator, c.Value)
	}
	if !found {
		return "missing", false
	}
	if c.Func == "len" {
		n := jsonLen(v)
		return strconv.Itoa(n), compare(strconv.Itoa(n), c.Operator, c.Value)
	}
	return checkValue(c, jsonString(v), false)
}

// checkValue compares a string value, applying len()/has() when asked.
func checkValue(c config.Condition, got string, raw bool) (string, bool) {
	switch c.Func {
	case "len":
		n := strconv.Itoa(len([]rune(got)))
		return n, compare(n, c.Operator, c.Value)
	case "has":
		has := strconv.FormatBool(got != "")
		return has, compare(has, c.Operator, c.Value)
	}
	return got, compare(got, c.Operator, c.Value)
}

// compare applies op to got and want. want may be pat(glob), regex(re) or
// any(a, b, ...); numbers compare as numbers.
func compare(got, op, want string) bool {
	want = strings.TrimSpace(want)
	if inner, ok := fn(want, "pat"); ok {
		return eqOp(op, glob(inner, got))
	}
	if inner, ok := fn(want, "regex"); ok {
		re, err := regexp.Compile(inner)
		return err == nil && eqOp(op, re.MatchString(got))
	}
	if inner, ok := fn(want, "any"); ok {
		hit := false
		for _, w := range strings.Split(inner, ",") {
			hit = hit || compare(got, "==", w)
		}
		return eqOp(op, hit)
	}
	want = strings.Trim(want, `"`)
	g, e1 := strconv.ParseFloat(strings.TrimSpace(got), 64)
	w, e2 := strconv.ParseFloat(want, 64)
	if e1 == nil && e2 == nil {
		return compareFloat(g, op, w)
	}
	switch op {
	case "==":
		return got == want
	case "!=":
		return got != want
	case "<":
		return got < want
	case "<=":
		return got <= want
	case ">":
		return got > want
	case ">=":
		return got >= want
	}
	return false
}

func eqOp(op string, match bool) bool {
	if op == "!=" {
		return !match
	}
	return op == "==" && match
}

func compareFloat(g float64, op string, w float64) bool {
	switch op {
	case "==":
		return g == w
	case "!=":
		return g != w
	case "<":
		return g < w
	case "<=":
		return g <= w
	case ">":
		return g > w
	case ">=":
		return g >= w
	}
	return false
}

// fn recognises name(inner).
func fn(s, name string) (string, bool) {
	inner, ok := strings.CutPrefix(s, name+"(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", false
	}
	return strings.TrimSuffix(inner, ")"), true
}

// glob matches s against a pattern where * matches any run of characters.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// millis parses a number of milliseconds or a duration ("48h", "PT5M", "7d").
func millis(v string) (float64, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f, nil
	}
	d, err := config.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", v)
	}
	return float64(d) / float64(time.Millisecond), nil
}

// jsonPath walks "a.b[0].c" through decoded JSON.
func jsonPath(doc any, path string) (any, bool) {
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if name != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[name]; !ok {
				return nil, false
			}
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil, false
			}
			n, err := strconv.Atoi(idx)
			arr, isArr := cur.([]any)
			if err != nil || !isArr || n < 0 || n >= len(arr) {
				return nil, false
			}
			cur = arr[n]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return cur, true
}

func jsonLen(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case map[string]any:
		return len(x)
	case string:
		return len([]rune(x))
	}
	return 0
}

func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
