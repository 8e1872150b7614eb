package config

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// validator collects the problems of one Config.
type validator struct {
	cfg   *Config
	file  string
	pos   map[string]Pos
	probs Problems
}

// at returns where path, or its closest recorded ancestor, is defined.
func (v *validator) at(p string) Pos {
	for {
		if pos, ok := v.pos[p]; ok {
			return pos
		}
		if p == "" {
			return v.pos[""]
		}
		p = parentPath(p)
	}
}

func (v *validator) report(warn bool, p, hint, format string, args ...any) {
	pos := v.at(p)
	v.probs = append(v.probs, Problem{File: v.file, Line: pos.Line, Col: pos.Col, Field: p,
		Message: fmt.Sprintf(format, args...), Hint: hint, Warning: warn})
}

func (v *validator) errorf(p, hint, format string, args ...any) {
	v.report(false, p, hint, format, args...)
}

func (v *validator) warnf(p, hint, format string, args ...any) {
	v.report(true, p, hint, format, args...)
}

// Validate checks the whole configuration and returns Problems listing every
// error and warning, or nil when there are none. Warnings alone are returned
// too; use Problems.Errors to tell them apart.
func (c *Config) Validate() error {
	v := &validator{cfg: c, file: c.file, pos: c.pos}
	if v.pos == nil {
		v.pos = map[string]Pos{}
	}
	v.walk(reflect.ValueOf(c).Elem(), "")
	c.validateSections(v)
	if len(v.probs) == 0 {
		return nil
	}
	return v.probs.sorted()
}

// walk checks the enum, min, max, pattern and keys struct tags everywhere,
// the same tags the JSON Schema is generated from.
func (v *validator) walk(rv reflect.Value, p string) {
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.IsNil() {
			v.walk(rv.Elem(), p)
		}
	case reflect.Slice:
		for i := 0; i < rv.Len(); i++ {
			v.walk(rv.Index(i), indexPath(p, i))
		}
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.walk(rv.MapIndex(k), joinPath(p, k.String()))
		}
	case reflect.Struct:
		for _, f := range fieldsOf(rv.Type()) {
			sf := rv.Type().Field(f.index)
			fp := joinPath(p, f.name)
			v.checkTags(sf.Tag, rv.Field(f.index), fp)
			v.walk(rv.Field(f.index), fp)
		}
	}
}

// checkTags applies one field's tag constraints.
func (v *validator) checkTags(tag reflect.StructTag, fv reflect.Value, p string) {
	if e := tag.Get("enum"); e != "" && fv.Kind() == reflect.String && fv.String() != "" {
		v.enum(p, fv.String(), strings.Split(e, ","))
	}
	if e := tag.Get("enum"); e != "" && fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
		for i := 0; i < fv.Len(); i++ {
			v.enum(indexPath(p, i), fv.Index(i).String(), strings.Split(e, ","))
		}
	}
	if name := tag.Get("pattern"); name != "" {
		v.patternField(p, name, fv)
	}
	if name := tag.Get("keys"); name != "" && fv.Kind() == reflect.Map {
		for _, k := range fv.MapKeys() {
			if !matches(name, k.String()) {
				v.errorf(joinPath(p, k.String()), patternHint[name], "%q is not a valid name", clip(k.String()))
			}
		}
	}
	v.bounds(tag, fv, p)
}

// patternHint explains each named pattern.
var patternHint = map[string]string{
	"slug":    "use lowercase letters, digits and '-', at most 63 characters, e.g. my-site",
	"name":    "use letters, digits, '_', '.' and '-', starting with a letter or digit",
	"envvar":  "use letters, digits and _, not starting with a digit",
	"header":  "a header name such as Strict-Transport-Security",
	"wafrule": "use lowercase letters, digits and '-', at most 40 characters, e.g. block-admin",
	"wafvar":  "use remote_addr, request_method, request_uri, path, query_string, user_agent, header:NAME or cookie:NAME",
	"date":    "write a date as YYYY-MM-DD",
}

func (v *validator) patternField(p, name string, fv reflect.Value) {
	check := func(p, s string) {
		if !matches(name, s) {
			v.errorf(p, patternHint[name], "%q is not valid", clip(s))
		}
	}
	switch {
	case fv.Kind() == reflect.String && fv.String() != "":
		check(p, fv.String())
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		for i := 0; i < fv.Len(); i++ {
			check(indexPath(p, i), fv.Index(i).String())
		}
	}
}

func (v *validator) bounds(tag reflect.StructTag, fv reflect.Value, p string) {
	var x float64
	switch fv.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		x = float64(fv.Int())
	case reflect.Float64:
		x = fv.Float()
	default:
		return
	}
	if s := tag.Get("min"); s != "" {
		if lim, _ := strconv.ParseFloat(s, 64); x < lim {
			v.errorf(p, "", "%v is below the minimum %s", x, s)
		}
	}
	if s := tag.Get("max"); s != "" {
		if lim, _ := strconv.ParseFloat(s, 64); x > lim {
			v.errorf(p, "", "%v is above the maximum %s", x, s)
		}
	}
}

// enum reports value when it is not one of allowed.
func (v *validator) enum(p, value string, allowed []string) {
	if slices.Contains(allowed, value) {
		return
	}
	hint := didYouMean(value, allowed)
	if hint == "" {
		hint = "use one of " + strings.Join(allowed, ", ")
	}
	v.errorf(p, hint, "%q is not allowed", clip(value))
}

// relPath reports a path that is absolute or leaves the project.
func (v *validator) relPath(p, value string) {
	if value == "" {
		return
	}
	clean := path.Clean(strings.ReplaceAll(value, "\\", "/"))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(value, "\x00") {
		v.errorf(p, "use a path relative to the project root, inside it", "%q leaves the project directory", clip(value))
	}
}

// uniqueNames reports duplicate names in a list; name(i) is item i's name.
func (v *validator) uniqueNames(p string, n int, name func(int) string) {
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		nm := name(i)
		if nm == "" {
			continue
		}
		if first, dup := seen[nm]; dup {
			v.errorf(indexPath(p, i)+".name", "names must be unique", "duplicate name %q (also %s)", clip(nm), indexPath(p, first))
			continue
		}
		seen[nm] = i
	}
}

// envRef reports a reference to an environment that does not exist.
func (v *validator) envRef(p, name string) {
	if name == "" {
		return
	}
	if _, ok := v.cfg.Environments[name]; !ok {
		v.errorf(p, orHint(didYouMean(name, v.cfg.EnvironmentNames()), "define it under environments"),
			"unknown environment %q", clip(name))
	}
}

// channelRef reports a reference to a notification channel that does not exist.
func (v *validator) channelRef(p, name string) {
	if _, ok := v.cfg.Notifications.Channels[name]; !ok {
		v.errorf(p, orHint(didYouMean(name, sortedKeys(v.cfg.Notifications.Channels)), "define it under notifications.channels"),
			"unknown notification channel %q", clip(name))
	}
}

func orHint(h, fallback string) string {
	if h != "" {
		return h
	}
	return fallback
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
