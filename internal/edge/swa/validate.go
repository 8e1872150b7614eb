package swa

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// validator walks the JSON tree, collects every problem with its position,
// and compiles the config as it goes.
type validator struct {
	file  string
	lines lineIndex
	errs  Problems
	warns []Problem
	roles map[string]bool
	// rewrites are the rewrite targets, for Config.MissingFiles.
	rewrites []rewriteRef
}

func (v *validator) problem(off int, field, msg string) Problem {
	p := Problem{File: v.file, Field: field, Msg: msg}
	if off >= 0 {
		p.Line, p.Col = v.lines.pos(off)
	}
	return p
}

func (v *validator) errAt(off int, field, msg string) {
	v.errs = append(v.errs, v.problem(off, field, msg))
}

func (v *validator) warnAt(off int, field, msg string) {
	v.warns = append(v.warns, v.problem(off, field, msg))
}

func (v *validator) errf(n *jnode, field, format string, a ...any) {
	v.errAt(n.off, field, fmt.Sprintf(format, a...))
}

func (v *validator) warnf(n *jnode, field, format string, a ...any) {
	v.warnAt(n.off, field, fmt.Sprintf(format, a...))
}

// is checks n's JSON type and reports a problem when it differs.
func (v *validator) is(n *jnode, kind byte, field string) bool {
	if n.kind == kind {
		return true
	}
	want := (&jnode{kind: kind}).kindName()
	hint := ""
	if kind == 'n' && n.kind == 's' {
		if _, err := strconv.Atoi(n.str); err == nil {
			hint = fmt.Sprintf(" (write %s without quotes)", n.str)
		}
	}
	v.errf(n, field, "must be %s, not %s%s", want, n.kindName(), hint)
	return false
}

// object iterates over the members of an object. allowed lists the keys the
// schema permits (nil: any key). Unknown keys are errors when strict,
// warnings otherwise; duplicate keys are warnings (the last one wins).
func (v *validator) object(n *jnode, field string, allowed []string, strict bool, fn func(key string, val *jnode, field string)) {
	if !v.is(n, 'o', field) {
		return
	}
	seen := map[string]bool{}
	for _, m := range n.mems {
		sub := joinField(field, m.key)
		if seen[m.key] {
			v.warnAt(m.keyOff, sub, "duplicate key; only the last value is used")
		}
		seen[m.key] = true
		if allowed != nil && !contains(allowed, m.key) {
			msg := fmt.Sprintf("unknown key %q (allowed: %s)", m.key, strings.Join(allowed, ", "))
			if close := closest(m.key, allowed); close != "" {
				msg += fmt.Sprintf("; did you mean %q?", close)
			}
			if strict {
				v.errAt(m.keyOff, sub, msg)
			} else {
				v.warnAt(m.keyOff, sub, msg+"; it is ignored")
			}
			continue
		}
		if fn != nil {
			fn(m.key, m.val, sub)
		}
	}
}

func (v *validator) requireKeys(n *jnode, field string, keys ...string) {
	if n.kind != 'o' {
		return
	}
	for _, k := range keys {
		found := false
		for _, m := range n.mems {
			found = found || m.key == k
		}
		if !found {
			v.errf(n, field, "missing required key %q", k)
		}
	}
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	if isIdent(key) {
		return parent + "." + key
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest suggests a known key for a misspelt one (case-insensitive match).
func closest(key string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, key) {
			return a
		}
	}
	return ""
}

// str returns n's string value, reporting a problem if it is not a string.
func (v *validator) str(n *jnode, field string) (string, bool) {
	if !v.is(n, 's', field) {
		return "", false
	}
	return n.str, true
}

// integer returns n as an int, reporting a problem if it is not an integer.
func (v *validator) integer(n *jnode, field string) (int, bool) {
	if !v.is(n, 'n', field) {
		return 0, false
	}
	i, err := strconv.Atoi(n.num.String())
	if err != nil {
		v.errf(n, field, "must be an integer, not %s", n.num)
		return 0, false
	}
	return i, true
}

// strings returns the string elements of an array.
func (v *validator) strs(n *jnode, field string, fn func(s string, el *jnode, field string)) {
	if !v.is(n, 'a', field) {
		return
	}
	for i, el := range n.elems {
		f := fmt.Sprintf("%s[%d]", field, i)
		if s, ok := v.str(el, f); ok {
			fn(s, el, f)
		}
	}
}

var topKeys = []string{"$schema", "auth", "forwardingGateway", "globalHeaders", "mimeTypes",
	"navigationFallback", "networking", "platform", "responseOverrides", "routes", "trailingSlash"}

// config validates the whole document and returns the compiled config.
func (v *validator) config(root *jnode) *Config {
	c := &Config{}
	v.roles = map[string]bool{}
	var global []headerPair
	var routeNodes *jnode
	v.object(root, "", topKeys, true, func(key string, n *jnode, f string) {
		switch key {
		case "$schema":
			v.str(n, f)
		case "routes":
			routeNodes = n
		case "navigationFallback":
			c.fallback = v.fallback(n, f)
		case "responseOverrides":
			v.overrides(c, n, f)
		case "globalHeaders":
			global = v.responseHeaders(n, f)
		case "mimeTypes":
			c.mime = v.mimeTypes(n, f)
		case "networking":
			v.networking(c, n, f)
		case "forwardingGateway":
			v.forwarding(c, n, f)
		case "auth":
			v.auth(n, f)
		case "platform":
			v.platform(n, f)
		case "trailingSlash":
			c.trailing = v.trailingSlash(n, f)
		}
	})
	var routeHeaders [][]headerPair
	if routeNodes != nil {
		c.routes, routeHeaders = v.routes(routeNodes, "routes")
	}
	if len(v.roles) > MaxRoles {
		names := make([]string, 0, len(v.roles))
		for r := range v.roles {
			names = append(names, r)
		}
		sort.Strings(names)
		v.errAt(-1, "routes", fmt.Sprintf("%d distinct roles are used; the cloud accepts at most %d", len(names), MaxRoles))
	}
	c.finish(global, routeHeaders)
	return c
}

func (v *validator) trailingSlash(n *jnode, f string) trailingMode {
	s, ok := v.str(n, f)
	if !ok {
		return trailingDefault
	}
	switch s {
	case "auto":
		return trailingAuto
	case "always":
		return trailingAlways
	case "never":
		return trailingNever
	}
	v.errf(n, f, "must be \"auto\", \"always\" or \"never\", not %q", s)
	return trailingDefault
}
