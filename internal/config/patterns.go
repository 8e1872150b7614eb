package config

import "regexp"

// Named patterns, shared by the validator and the JSON Schema generator so the
// two agree. Struct tags refer to them by name: `pattern:"slug"` for a string
// field, `keys:"slug"` for the keys of a map field.
var patterns = map[string]string{
	// slug: a DNS label, usable in host names like <env>.<project>.localhost.
	"slug": `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`,
	// name: a workflow, channel or step identifier.
	"name": `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`,
	// envvar: an environment variable or secret name.
	"envvar": `^[A-Za-z_][A-Za-z0-9_]{0,127}$`,
	// header: an HTTP header field name (RFC 9110 token).
	"header": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
	// wafrule: an edge.waf.custom_rules name, reported as custom-<name>.
	"wafrule": `^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`,
	// wafvar: an edge.waf.custom_rules variable.
	"wafvar": "^(remote_addr|request_method|request_uri|path|query_string|user_agent|(header|cookie):[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128})$",
	// date: a calendar date YYYY-MM-DD.
	"date": `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`,
}

var compiled = func() map[string]*regexp.Regexp {
	m := make(map[string]*regexp.Regexp, len(patterns))
	for k, p := range patterns {
		m[k] = regexp.MustCompile(p)
	}
	return m
}()

// matches reports whether s matches the named pattern.
func matches(name, s string) bool { return compiled[name].MatchString(s) }

// Duration syntaxes: bare seconds, Go-style with d and w units, ISO-8601.
const (
	numRe       = `[0-9]+(\.[0-9]+)?`
	goDurRe     = `(` + numRe + `(ns|us|µs|ms|s|m|h|d|w))+`
	isoSecRe    = numRe + `S`
	isoTimeRe   = `T([0-9]+H([0-9]+M)?(` + isoSecRe + `)?|[0-9]+M(` + isoSecRe + `)?|` + isoSecRe + `)`
	isoDurRe    = `P([0-9]+W([0-9]+D)?(` + isoTimeRe + `)?|[0-9]+D(` + isoTimeRe + `)?|` + isoTimeRe + `)`
	durationRe  = `^([0-9]+|` + goDurRe + `|` + isoDurRe + `)$`
	thresholdRe = `^` + numRe + `(%|ms|s)?$`
)

var (
	durationRx  = regexp.MustCompile(durationRe)
	goDurRx     = regexp.MustCompile(`^` + goDurRe + `$`)
	goSegRx     = regexp.MustCompile(`(` + numRe + `)(ns|us|µs|ms|s|m|h|d|w)`)
	isoSegRx    = regexp.MustCompile(`(` + numRe + `)([WDHMS])`)
	thresholdRx = regexp.MustCompile(thresholdRe)
)
