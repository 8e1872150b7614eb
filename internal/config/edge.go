package config

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/waf"
)

// Edge holds serving rules shared by every environment. Per-route rules live
// in the site's staticwebapp.config.json.
type Edge struct {
	Headers   []HeaderRule `yaml:"headers" json:"headers,omitempty" doc:"Response header rules applied in order, e.g. security headers."`
	RateLimit *RateLimit   `yaml:"rate_limit" json:"rate_limit,omitempty" doc:"Per-client request rate limit."`
	WAF       WAF          `yaml:"waf" json:"waf" doc:"Web application firewall."`
}

// HeaderRule sets or removes response headers on matching requests.
type HeaderRule struct {
	Name   string            `yaml:"name" json:"name" required:"true" doc:"Rule name, e.g. SecurityHeaders."`
	Order  int               `yaml:"order" json:"order" min:"0" doc:"Rules apply in ascending order; later rules win."`
	Match  HeaderMatch       `yaml:"match" json:"match" doc:"Which requests the rule applies to; default all."`
	Set    map[string]string `yaml:"set" json:"set,omitempty" keys:"header" doc:"Headers to set, e.g. Strict-Transport-Security: max-age=31536000."`
	Remove []string          `yaml:"remove" json:"remove,omitempty" pattern:"header" doc:"Headers to remove, e.g. X-Powered-By."`
}

// HeaderMatch selects requests.
type HeaderMatch struct {
	Scheme string `yaml:"scheme" json:"scheme,omitempty" enum:"http,https" doc:"Only requests over this scheme."`
	Path   string `yaml:"path" json:"path,omitempty" doc:"Only paths matching this glob, e.g. /assets/*."`
}

// RateLimit limits requests per client address.
type RateLimit struct {
	Requests int      `yaml:"requests" json:"requests" required:"true" min:"1" doc:"Requests allowed per period."`
	Per      Duration `yaml:"per" json:"per" doc:"Period (default 1m)."`
	Burst    int      `yaml:"burst" json:"burst" min:"0" doc:"Extra requests allowed in a burst."`
	Exempt   []string `yaml:"exempt" json:"exempt,omitempty" doc:"Address ranges not limited, e.g. monitoring probes."`
}

func (r *RateLimit) setDefaults() { r.Per = Duration(time.Minute) }

// WAF configures the firewall.
type WAF struct {
	Mode     string      `yaml:"mode" json:"mode" enum:"off,detect,block" doc:"off, detect (log only) or block (default off)."`
	Rules    []string    `yaml:"rules" json:"rules,omitempty" enum:"owasp-core,bad-bots,scanners" doc:"Rule sets to apply."`
	GeoAllow []string    `yaml:"geo_allow" json:"geo_allow,omitempty" doc:"ISO country codes allowed; empty allows all (needs a GeoIP database)."`
	GeoDeny  []string    `yaml:"geo_deny" json:"geo_deny,omitempty" doc:"ISO country codes blocked."`
	Exclude  []WAFRuleID `yaml:"exclude" json:"exclude,omitempty" doc:"OWASP CRS rule ids removed from owasp-core, e.g. 920420 or crs-920420 (docs/waf.md)."`
	// CustomRules run before the rule sets (docs/waf.md).
	CustomRules []WAFCustomRule `yaml:"custom_rules" json:"custom_rules,omitempty" doc:"Rules evaluated by priority before the rule sets: block, allow (skip the rule sets) or log."`
}

// WAFCustomRule is one custom firewall rule: when every condition of
// Match holds, Action applies.
type WAFCustomRule struct {
	Name     string         `yaml:"name" json:"name" required:"true" pattern:"wafrule" doc:"Rule name, reported as custom-<name>, e.g. block-admin."`
	Priority int            `yaml:"priority" json:"priority" required:"true" min:"0" doc:"Rules run in ascending priority; each rule has its own."`
	Action   string         `yaml:"action" json:"action" required:"true" enum:"block,allow,log" doc:"block (403 in block mode), allow (skip the later rules and rule sets) or log (count only)."`
	Match    []WAFCondition `yaml:"match" json:"match" required:"true" doc:"Conditions that must all hold."`
}

// WAFCondition tests one part of a request.
type WAFCondition struct {
	Variable   string   `yaml:"variable" json:"variable" required:"true" pattern:"wafvar" doc:"remote_addr, request_method, request_uri, path, query_string, user_agent, header:NAME or cookie:NAME."`
	Operator   string   `yaml:"operator" json:"operator" required:"true" enum:"equals,contains,begins_with,ends_with,regex,ip_match,any" doc:"How the values are compared; ip_match for remote_addr, any tests that the variable exists."`
	Values     []string `yaml:"values" json:"values,omitempty" doc:"The condition holds when any value matches (regex: Go RE2; ip_match: addresses or CIDR ranges)."`
	Negate     bool     `yaml:"negate" json:"negate,omitempty" doc:"Hold when no value matches instead."`
	Transforms []string `yaml:"transforms" json:"transforms,omitempty" enum:"lowercase,trim,url_decode" doc:"Applied in order to the request's value before comparing."`
}

// WAFRuleID is an OWASP Core Rule Set rule id, written 920420 or
// "crs-920420" (the form phoenix_edge_waf_matches_total reports).
type WAFRuleID int

func (id *WAFRuleID) decodeNode(dec *decoder, n *yaml.Node, path string) {
	hint := `write a rule number such as 920420 or "crs-920420"`
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		dec.typeErr(n, path, "a CRS rule id", hint)
		return
	}
	s := strings.TrimPrefix(strings.TrimSpace(n.Value), "crs-")
	v, err := strconv.Atoi(s)
	if err != nil || len(s) != 6 || s[0] == '+' || s[0] == '-' {
		dec.add(n, path, hint, "%q is not a CRS rule id", clip(n.Value))
		return
	}
	*id = WAFRuleID(v)
}

func (WAFRuleID) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 900000, "maximum": 999999},
		map[string]any{"type": "string", "pattern": `^(crs-)?9[0-9]{5}$`},
	}}
}

// FirewallRules returns edge.waf's exclusions and custom rules as package
// waf takes them.
func (w WAF) FirewallRules() (exclude []int, custom []waf.CustomRule) {
	for _, id := range w.Exclude {
		exclude = append(exclude, int(id))
	}
	for _, r := range w.CustomRules {
		c := waf.CustomRule{Name: r.Name, Priority: r.Priority, Action: r.Action}
		for _, m := range r.Match {
			c.Match = append(c.Match, waf.Condition{Variable: m.Variable, Operator: m.Operator, Values: m.Values,
				Negate: m.Negate, Transforms: m.Transforms})
		}
		custom = append(custom, c)
	}
	return exclude, custom
}

var countryRx = regexp.MustCompile(`^[A-Z]{2}$`)

// edgeOwnedHint explains a header a rule may not touch.
const edgeOwnedHint = "the edge frames and encodes each response itself (Content-Length, Transfer-Encoding, Connection, Content-Encoding, Content-Range) and cookies are the application's: delete it from the rule"

func (e *Edge) validate(v *validator) {
	v.uniqueNames("edge.headers", len(e.Headers), func(i int) string { return e.Headers[i].Name })
	for i, h := range e.Headers {
		p := indexPath("edge.headers", i)
		if h.Name == "" {
			v.errorf(p+".name", "", "is required")
		}
		if len(h.Set) == 0 && len(h.Remove) == 0 {
			v.errorf(p, "add set or remove", "the rule changes no header")
		}
		if h.Match.Path != "" && !strings.HasPrefix(h.Match.Path, "/") {
			v.errorf(p+".match.path", "start the glob with /", "%q is not a path glob", clip(h.Match.Path))
		}
		for name, val := range h.Set {
			f := joinPath(p+".set", name)
			switch {
			case strings.EqualFold(http.CanonicalHeaderKey(name), "Set-Cookie"):
				v.errorf(f, "cookies are the application's business", "Set-Cookie cannot be set by a rule")
			case !edge.HeaderRuleMayChange(name):
				v.errorf(f, edgeOwnedHint, "%s cannot be set by a rule", http.CanonicalHeaderKey(name))
			}
			if strings.ContainsAny(val, "\r\n") {
				v.errorf(f, "write the value on one line (a YAML block scalar keeps its line breaks; use a plain or quoted string)", "the value is not one line")
			}
		}
		for i, name := range h.Remove {
			if !edge.HeaderRuleMayChange(name) {
				v.errorf(indexPath(p+".remove", i), edgeOwnedHint, "%s cannot be removed by a rule", http.CanonicalHeaderKey(name))
			}
		}
	}
	if r := e.RateLimit; r != nil {
		if r.Per <= 0 {
			v.errorf("edge.rate_limit.per", `write e.g. "1m"`, "must be positive")
		}
		for i, x := range r.Exempt {
			if !validRange(x) {
				v.errorf(indexPath("edge.rate_limit.exempt", i), "write a CIDR range or an address", "%q is not an IP address or range", clip(x))
			}
		}
	}
	for name, list := range map[string][]string{"geo_allow": e.WAF.GeoAllow, "geo_deny": e.WAF.GeoDeny} {
		for i, c := range list {
			if !countryRx.MatchString(c) {
				v.errorf(indexPath("edge.waf."+name, i), "use two-letter ISO 3166 codes such as ZA", "%q is not a country code", clip(c))
			}
		}
	}
	if len(e.WAF.GeoAllow) > 0 && len(e.WAF.GeoDeny) > 0 {
		v.errorf("edge.waf", "use either geo_allow or geo_deny", "geo_allow and geo_deny exclude each other")
	}
	e.WAF.validateRules(v)
}

// validateRules checks exclude and custom_rules as the edge's firewall
// will (package waf), reporting what the struct tags have not already.
func (w *WAF) validateRules(v *validator) {
	if len(w.Exclude) > 0 && !slices.Contains(w.Rules, waf.RuleSetOWASPCore) {
		v.warnf("edge.waf.exclude", "add owasp-core to edge.waf.rules, or remove exclude", "has no effect without owasp-core")
	}
	// Only errors cover a finding: a warning on edge.waf.exclude (no
	// owasp-core) must not hide that one of its ids does not exist, which
	// the edge refuses whatever the rule sets.
	for _, fe := range waf.CheckRules(w.FirewallRules()) {
		if !coveredBy(fe.Field, v.probs.Errors()) {
			v.errorf(fe.Field, fe.Hint, "%s", fe.Message)
		}
	}
}
