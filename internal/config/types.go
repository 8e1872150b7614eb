package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a length of time written as a Go duration with optional d and
// w units ("90s", "1m30s", "7d"), an ISO-8601 duration ("PT5M", "P1D"), or a
// bare number of seconds ("60" or 60).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d as a Go duration.
func (d Duration) String() string { return time.Duration(d).String() }

// FormatDuration writes d as people write durations: Go's form without
// zero minutes and seconds ("5m", "1h", "1h30m", "1m30s", "0s"), for the
// texts people read (alert summaries, reports, errors). JSON and the
// canonical forms keep Duration.String, which stored digests depend on.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// DurationIn is f units as a Duration, to the nearest nanosecond: how a
// duration JSON writes as a number in the unit its key names
// (timeout_seconds, duration_ms) is read back.
func DurationIn(f float64, unit time.Duration) time.Duration {
	return time.Duration(math.Round(f * float64(unit)))
}

// ParseDuration parses the Duration syntax; bare numbers are seconds.
func ParseDuration(s string) (time.Duration, error) { return parseDurationUnit(s, time.Second) }

// parseDurationUnit parses the Duration syntax with bare numbers in unit.
func parseDurationUnit(s string, unit time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !durationRx.MatchString(s) {
		return 0, fmt.Errorf("%q is not a duration", clip(s))
	}
	var total float64
	switch {
	case strings.HasPrefix(s, "P"):
		for _, m := range isoSegRx.FindAllStringSubmatch(strings.TrimPrefix(s, "P"), -1) {
			total += atof(m[1]) * isoUnit(m[3])
		}
	case goDurRx.MatchString(s):
		for _, m := range goSegRx.FindAllStringSubmatch(s, -1) {
			total += atof(m[1]) * float64(goUnits[m[3]])
		}
	default:
		total = atof(s) * float64(unit)
	}
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too long a duration", clip(s))
	}
	return time.Duration(math.Round(total)), nil
}

var goUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// isoUnit returns the length of an ISO-8601 unit. The syntax has no years
// or months, so M always means minutes.
func isoUnit(u string) float64 {
	switch u {
	case "W":
		return float64(7 * 24 * time.Hour)
	case "D":
		return float64(24 * time.Hour)
	case "H":
		return float64(time.Hour)
	case "M":
		return float64(time.Minute)
	}
	return float64(time.Second)
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func (d *Duration) decodeNode(dec *decoder, n *yaml.Node, path string) {
	v, ok := decodeDurationNode(dec, n, path, time.Second)
	if ok {
		*d = Duration(v)
	}
}

// decodeDurationNode reads an integer or string duration node.
func decodeDurationNode(dec *decoder, n *yaml.Node, path string, unit time.Duration) (time.Duration, bool) {
	hint := `write e.g. "30s", "5m", "PT5M" or a number of seconds`
	if unit != time.Second {
		hint = `write e.g. "90d", "12w", "P90D" or a number of days`
	}
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		dec.typeErr(n, path, "a duration", hint)
		return 0, false
	}
	v, err := parseDurationUnit(cleanNum(n.Value), unit)
	if err != nil {
		dec.add(n, path, hint, "%v", err)
		return 0, false
	}
	return v, true
}

func (Duration) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 0, "description": "seconds"},
		map[string]any{"type": "string", "pattern": durationRe},
	}}
}

// Retention is how long something is kept: the Duration syntax, except that
// a bare number counts days ("90" is 90 days).
type Retention time.Duration

// D returns r as a time.Duration.
func (r Retention) D() time.Duration { return time.Duration(r) }

// Days returns r in whole days.
func (r Retention) Days() int { return int(time.Duration(r) / (24 * time.Hour)) }

func (r *Retention) decodeNode(dec *decoder, n *yaml.Node, path string) {
	v, ok := decodeDurationNode(dec, n, path, 24*time.Hour)
	if ok {
		*r = Retention(v)
	}
}

func (Retention) jsonSchema(g *schemaGen) map[string]any {
	s := Duration(0).jsonSchema(g)
	s["description"] = "a bare number counts days"
	return s
}

// Threshold is an alert threshold: a number, or a string with a unit such as
// "1%", "1000ms", "2s" or "99.9". Seconds are stored as milliseconds.
type Threshold struct {
	Value float64
	Unit  string // "", "%" or "ms"
}

// String formats the threshold with its unit.
func (t Threshold) String() string {
	return strconv.FormatFloat(t.Value, 'f', -1, 64) + t.Unit
}

func (t *Threshold) decodeNode(dec *decoder, n *yaml.Node, path string) {
	hint := `write a number, or a string like "1%", "1000ms" or "99.9"`
	if f, ok := parseFloat(n); ok {
		*t = Threshold{Value: f}
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		dec.typeErr(n, path, "a threshold", hint)
		return
	}
	s := strings.TrimSpace(n.Value)
	if !thresholdRx.MatchString(s) {
		dec.add(n, path, hint, "%q is not a threshold", clip(s))
		return
	}
	switch {
	case strings.HasSuffix(s, "%"):
		*t = Threshold{atof(strings.TrimSuffix(s, "%")), "%"}
	case strings.HasSuffix(s, "ms"):
		*t = Threshold{atof(strings.TrimSuffix(s, "ms")), "ms"}
	case strings.HasSuffix(s, "s"):
		*t = Threshold{atof(strings.TrimSuffix(s, "s")) * 1000, "ms"}
	default:
		*t = Threshold{Value: atof(s)}
	}
}

func (Threshold) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "number"},
		map[string]any{"type": "string", "pattern": thresholdRe},
	}}
}

// SecretRef is a value that may be secret, such as a webhook URL: a
// reference "secret:NAME" (the Phoenix vault) or "env:NAME" (an environment
// variable), or a literal. Its String method never shows a literal.
type SecretRef struct {
	Source  string // "secret", "env", or "" for a literal
	Name    string // vault secret or variable name, for references
	literal string
}

// Literal returns the literal value, or "" for a reference.
func (s SecretRef) Literal() string { return s.literal }

// IsZero reports whether s is unset.
func (s SecretRef) IsZero() bool { return s.Source == "" && s.literal == "" }

// String shows a reference as written and a literal as "[redacted]".
func (s SecretRef) String() string {
	switch {
	case s.Source != "":
		return s.Source + ":" + s.Name
	case s.literal != "":
		return "[redacted]"
	}
	return ""
}

// GoString redacts like String, for %#v.
func (s SecretRef) GoString() string { return "config.SecretRef(" + s.String() + ")" }

// MarshalText redacts like String.
func (s SecretRef) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Resolve returns the value: env references read the process environment,
// secret references call vault, literals return themselves.
func (s SecretRef) Resolve(vault func(name string) (string, error)) (string, error) {
	switch s.Source {
	case "env":
		v, ok := os.LookupEnv(s.Name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Name)
		}
		return v, nil
	case "secret":
		if vault == nil {
			return "", fmt.Errorf("secret %s: no vault available", s.Name)
		}
		return vault(s.Name)
	}
	return s.literal, nil
}

// ParseSecretRef parses "secret:NAME", "env:NAME" or a literal.
func ParseSecretRef(v string) (SecretRef, error) {
	for _, src := range []string{"secret", "env"} {
		if name, ok := strings.CutPrefix(v, src+":"); ok {
			if !matches("envvar", name) {
				return SecretRef{}, fmt.Errorf("%s reference %q has an invalid name", src, clip(v))
			}
			return SecretRef{Source: src, Name: name}, nil
		}
	}
	return SecretRef{literal: v}, nil
}

func (s *SecretRef) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		dec.typeErr(n, path, "a string", `write "secret:NAME" or "env:NAME"`)
		return
	}
	ref, err := ParseSecretRef(n.Value)
	if err != nil {
		dec.add(n, path, "names are letters, digits and _, e.g. secret:PROD_TEAMS_WEBHOOK_URL", "%v", err)
		return
	}
	*s = ref
}

func (SecretRef) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "string",
		"description": `"secret:NAME" (vault), "env:NAME" (environment variable) or a literal value`,
		"anyOf": []any{
			map[string]any{"pattern": `^(secret|env):[A-Za-z_][A-Za-z0-9_]{0,127}$`},
			map[string]any{"not": map[string]any{"pattern": `^(secret|env):`}},
		}}
}

// EnvMap maps environment variable names to values; numbers and booleans
// are accepted as values and kept as written.
type EnvMap map[string]string

func (e *EnvMap) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		dec.typeErr(n, path, "a mapping of NAME: value", "")
		return
	}
	*e = EnvMap{}
	for _, p := range dec.pairs(n, path) {
		fp := joinPath(path, p.key.Value)
		dec.record(fp, p.key)
		if !matches("envvar", p.key.Value) {
			dec.add(p.key, fp, "use letters, digits and _", "%q is not a valid variable name", clip(p.key.Value))
		}
		v := dec.resolve(p.value, fp)
		if v == nil {
			return
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			dec.typeErr(v, fp, "a string, number or boolean", "")
			continue
		}
		(*e)[p.key.Value] = v.Value
	}
}

func (EnvMap) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "object",
		"propertyNames":        map[string]any{"pattern": patterns["envvar"]},
		"additionalProperties": map[string]any{"type": []any{"string", "number", "boolean"}}}
}
