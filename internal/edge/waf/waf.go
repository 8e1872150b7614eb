package waf

import (
	"cmp"
	"net/http"
	"net/netip"
)

// Config is the phoenix.yaml edge.waf section of one environment, plus the
// GeoIP database geo_allow and geo_deny need.
type Config struct {
	Mode     string   // off, detect or block; "" is off
	Rules    []string // rule sets: owasp-core, bad-bots, scanners
	GeoAllow []string // ISO 3166 alpha-2 codes; only these countries pass
	GeoDeny  []string // ISO 3166 alpha-2 codes blocked
	Geo      *GeoDB   // required when GeoAllow or GeoDeny is set
	// Exclude lists CRS rule ids (920420) removed from owasp-core.
	Exclude []int
	// CustomRules run before the rule sets, by priority (docs/waf.md).
	CustomRules []CustomRule
}

// Firewall inspects requests for one environment. It is safe for concurrent
// use. A nil *Firewall inspects nothing: Inspect reports no match.
type Firewall struct {
	block   bool          // mode block; detect reports only
	geo     *geoPolicy    // nil without geo_allow/geo_deny
	badBots bool          // bad-bots: missing or empty User-Agent
	scan    *uaList       // scanners: CRS 913100's list, nil when off
	crs     *engine       // owasp-core, nil when off
	custom  []*customRule // by priority
}

// New builds the Firewall c describes. It returns (nil, nil) when there is
// nothing to enforce: mode off or empty, or no rule set and no geo list.
// Errors name the phoenix.yaml field (edge.waf.rules[1], ...) and how to fix it.
// The first Firewall with owasp-core compiles the Core Rule Set (60-160 ms,
// 12 MiB of heap kept); later ones with the same Exclude share it.
// Exclude without owasp-core has no effect.
func New(c Config) (*Firewall, error) {
	block, on, err := parseMode(c.Mode)
	if err != nil || !on {
		return nil, err
	}
	sets, err := parseRules(c.Rules)
	if err != nil {
		return nil, err
	}
	geo, err := newGeoPolicy(c.GeoAllow, c.GeoDeny, c.Geo)
	if err != nil {
		return nil, err
	}
	exclude, errs := parseExclude(c.Exclude)
	custom, cerrs := parseCustomRules(c.CustomRules)
	if errs = append(errs, cerrs...); len(errs) > 0 {
		return nil, errs[0].usage()
	}
	if len(sets) == 0 && geo == nil && len(custom) == 0 {
		return nil, nil
	}
	f := &Firewall{block: block, geo: geo, badBots: sets[RuleSetBadBots], custom: custom}
	if sets[RuleSetScanners] {
		f.scan = scannerList()
	}
	if sets[RuleSetOWASPCore] {
		if f.crs, err = sharedEngine(exclude); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Blocking reports whether the firewall is in block mode (edge.Blocking):
// a match it lets through is then a custom rule's log, not a detect-mode
// finding, and the edge labels it action="log".
func (f *Firewall) Blocking() bool { return f != nil && f.block }

// Allows reports whether rule is the id of one of the custom rules whose
// action is allow (edge.Allowing): Inspect reports such a match, which
// skipped the later checks, and the edge counts it with action="allow".
func (f *Firewall) Allows(rule string) bool {
	if f == nil {
		return false
	}
	for _, c := range f.custom {
		if c.action == ActionAllow && c.id == rule {
			return true
		}
	}
	return false
}

// Costly reports whether Inspect is too slow for an event loop that
// serves every connection from one thread, or reads bodies: true with
// owasp-core (about a millisecond of CPU per request, see docs/waf.md),
// false for geo, custom rules, bad-bots and scanners (custom rules never
// read the body; each costs well under a microsecond). The edge
// runs a costly Firewall on net/http's goroutines (edge.Costly).
func (f *Firewall) Costly() bool { return f != nil && f.crs != nil }

// Inspect looks at one request from client, in this order: geo, custom
// rules by priority, bad-bots, scanners, owasp-core; the first match that
// blocks wins. A custom rule whose action is allow ends the inspection
// and is reported, never blocking (Allows tells it from a log rule),
// unless a log rule matched before it: that one is reported instead. A
// log rule is reported (never blocking) when nothing after it matches. rule is "" when nothing
// matched, otherwise a stable id safe to log and to use as a metric label
// ("geo-KP", "custom-block-admin", "bad-bot", "scanner", "crs-942100";
// docs/waf.md lists them); it never holds request data. block is true
// when rule matched in block mode and is not a log rule.
//
// With owasp-core on, Inspect reads a request body of up to MaxBodyInspect
// bytes and replaces r.Body with a reader that still yields the whole body.
func (f *Firewall) Inspect(r *http.Request, client netip.Addr) (rule string, block bool) {
	if f == nil || r == nil {
		return "", false
	}
	defer func() {
		if p := recover(); p != nil {
			onPanic(p)
			rule, block = RuleError, f.block
		}
	}()
	rule, blocking := f.match(r, client)
	return rule, blocking && f.block
}

// match returns the rule that matched r and whether it is one that blocks.
func (f *Firewall) match(r *http.Request, client netip.Addr) (string, bool) {
	if id := f.geo.check(client); id != "" {
		return id, true
	}
	logged := ""
	for _, c := range f.custom {
		if !c.matches(r, client) {
			continue
		}
		switch c.action {
		case ActionAllow: // a log rule before it is the one reported
			return cmp.Or(logged, c.id), false
		case ActionBlock:
			return c.id, true
		}
		if logged == "" {
			logged = c.id
		}
	}
	if id := f.managed(r, client); id != "" {
		return id, true
	}
	return logged, false
}

// managed runs the rule sets: bad-bots, scanners, owasp-core.
func (f *Firewall) managed(r *http.Request, client netip.Addr) string {
	if f.badBots && !hasUserAgent(r.Header) {
		return RuleBadBot
	}
	if f.scan.matches(r.Header) {
		return RuleScanner
	}
	return f.crs.inspect(r, client)
}

// onPanic sees a panic Inspect recovered from; tests make it fail.
var onPanic = func(any) {}
