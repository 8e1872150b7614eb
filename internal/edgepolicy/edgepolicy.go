// Package edgepolicy turns a project's phoenix.yaml `edge:` section into
// what the edge applies (edge.Policy): header rules in order, the rate
// limit, and the firewall built with edge/waf. The server applies it to
// every environment of the project (internal/app); `phoenix serve
// --config` applies it to a folder, so a team sees its policy, false
// positives included, before it deploys.
package edgepolicy

import (
	"net/netip"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/waf"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Build returns the edge policy e describes; geo is the GeoIP database
// for edge.waf's geo lists (nil: such a list is an error naming the
// field). A nil or empty e gives an empty policy.
func Build(e *config.Edge, geo *waf.GeoDB) (*edge.Policy, error) {
	p := &edge.Policy{}
	if e == nil {
		return p, nil
	}
	rules := slices.Clone(e.Headers)
	slices.SortStableFunc(rules, func(x, y config.HeaderRule) int { return x.Order - y.Order })
	for _, h := range rules {
		p.Headers = append(p.Headers, edge.PolicyRule{Name: h.Name, Scheme: h.Match.Scheme, Path: h.Match.Path, Set: h.Set, Remove: h.Remove})
	}
	if rl := e.RateLimit; rl != nil {
		var exempt []netip.Prefix
		for i, r := range rl.Exempt {
			p, ok := deploy.ParseRange(r) // ranges or addresses, as ip_allow
			if !ok {
				return nil, usererr.New(usererr.Invalid, "edge.rate_limit.exempt[%d]: %q is neither an address nor a CIDR range", i, r).
					WithHint("write e.g. 203.0.113.0/24 or 2001:db8::1")
			}
			exempt = append(exempt, p)
		}
		p.RateLimit = &edge.RateLimit{Requests: rl.Requests, Per: rl.Per.D(), Burst: rl.Burst, Exempt: exempt}
	}
	fw, err := Firewall(e.WAF, geo)
	if err != nil {
		return nil, err
	}
	p.Firewall = fw
	return p, p.Check()
}

// Firewall builds the edge's Firewall for edge.waf (docs/waf.md): nil
// when the mode is off or there is nothing to enforce. The Core Rule Set
// is compiled once per process and per distinct exclusion set, and shared.
func Firewall(w config.WAF, geo *waf.GeoDB) (edge.Firewall, error) {
	exclude, custom := w.FirewallRules()
	fw, err := waf.New(waf.Config{Mode: w.Mode, Rules: w.Rules, GeoAllow: w.GeoAllow, GeoDeny: w.GeoDeny, Geo: geo,
		Exclude: exclude, CustomRules: custom})
	if err != nil || fw == nil {
		return nil, err // a nil *waf.Firewall must not become a non-nil edge.Firewall
	}
	return fw, nil
}
