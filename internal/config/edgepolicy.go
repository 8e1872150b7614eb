package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// An edge section travels on its own, as JSON with the phoenix.yaml keys:
// `phoenix deploy` and the release pipeline send a project's `edge:` to the
// server, which stores it with the project (PUT /api/v1/projects/{p}/edge).
// ParseEdge is the server's check of what arrives, with the same strict
// decoding, defaults and validation as phoenix.yaml itself; Canonical is
// the one form stored, so an unchanged section compares equal.

// ParseEdge decodes and validates an edge section alone, written in JSON
// (or YAML). Problems name the fields as phoenix.yaml does
// ("edge.rate_limit.per"); filename labels them ("edge" when empty). On
// any error it returns nil and a Problems value.
func ParseEdge(data []byte, filename string) (*Edge, error) {
	if filename == "" {
		filename = "edge"
	}
	root, probs := parseDocument(data, filename)
	if probs != nil {
		return nil, probs
	}
	e := &Edge{}
	d := newDecoder(filename)
	d.pos["edge"] = Pos{root.Line, root.Column}
	if root.Kind != yaml.MappingNode {
		d.typeErr(root, "edge", "a mapping with headers, rate_limit or waf", `send {} for no policy`)
		return nil, d.probs
	}
	d.decode(root, reflect.ValueOf(e).Elem(), "edge")
	v := &validator{file: filename, pos: d.pos}
	v.walk(reflect.ValueOf(e).Elem(), "edge")
	e.validate(v)
	all := d.probs
	for _, p := range v.probs {
		if !coveredBy(p.Field, d.probs) {
			all = append(all, p)
		}
	}
	if all = all.sorted(); len(all.Errors()) > 0 {
		return nil, all
	}
	if e.WAF.Mode == "" {
		e.WAF.Mode = "off"
	}
	return e, nil
}

// IsZero reports whether e asks for nothing: no header rule, no rate limit
// and the firewall off with no rule set, country list, exclusion or custom
// rule.
func (e *Edge) IsZero() bool {
	return e == nil || len(e.Headers) == 0 && e.RateLimit == nil && (e.WAF.Mode == "" || e.WAF.Mode == "off") &&
		len(e.WAF.Rules) == 0 && len(e.WAF.GeoAllow) == 0 && len(e.WAF.GeoDeny) == 0 &&
		len(e.WAF.Exclude) == 0 && len(e.WAF.CustomRules) == 0
}

// Canonical returns the stored form of e: JSON with the phoenix.yaml keys,
// header rules sorted by order (equal orders keep their written order),
// custom firewall rules by priority, exclusions sorted without duplicates,
// and nil when e IsZero.
func (e *Edge) Canonical() ([]byte, error) {
	if e.IsZero() {
		return nil, nil
	}
	c := *e
	c.Headers = slices.Clone(e.Headers)
	slices.SortStableFunc(c.Headers, func(a, b HeaderRule) int { return cmp.Compare(a.Order, b.Order) })
	c.WAF.CustomRules = slices.Clone(e.WAF.CustomRules)
	slices.SortStableFunc(c.WAF.CustomRules, func(a, b WAFCustomRule) int { return cmp.Compare(a.Priority, b.Priority) })
	c.WAF.Exclude = slices.Clone(e.WAF.Exclude)
	slices.Sort(c.WAF.Exclude)
	c.WAF.Exclude = slices.Compact(c.WAF.Exclude)
	if c.WAF.Mode == "" {
		c.WAF.Mode = "off"
	}
	return json.Marshal(&c)
}

// MarshalJSON writes d as a Go duration string ("1m0s"), which the
// Duration syntax reads back.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalJSON reads what MarshalJSON writes, and phoenix.yaml's other
// duration forms ("5m", "PT5M", a number of seconds), for clients of the
// API that decode a stored policy (ParseEdge checks a policy sent in).
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	v, err := parseDurationUnit(cleanNum(s), time.Second)
	if err != nil {
		return fmt.Errorf("duration %s: %w", clip(string(b)), err)
	}
	*d = Duration(v)
	return nil
}
