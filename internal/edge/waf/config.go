package waf

import (
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The rule sets of edge.waf.rules.
const (
	RuleSetOWASPCore = "owasp-core"
	RuleSetBadBots   = "bad-bots"
	RuleSetScanners  = "scanners"
)

// Rule ids Inspect reports besides "crs-<id>", "waf-<id>" and "geo-<XX>".
const (
	RuleBadBot  = "bad-bot"   // bad-bots: no or an empty User-Agent
	RuleScanner = "scanner"   // scanners: a security scanner's User-Agent (CRS 913100)
	RuleError   = "waf-error" // the inspection itself failed; see docs/waf.md
	// RuleOversize: owasp-core did not inspect a request target or headers
	// past MaxTargetInspect or MaxHeaderInspect; refused in block mode.
	RuleOversize = "waf-oversize"
)

func parseMode(mode string) (block, on bool, err error) {
	switch mode {
	case "", "off":
		return false, false, nil
	case "detect":
		return false, true, nil
	case "block":
		return true, true, nil
	}
	return false, false, usererr.New(usererr.Usage, "edge.waf.mode: %q is not a mode", clip(mode)).
		WithHint("use off, detect or block")
}

func parseRules(rules []string) (map[string]bool, error) {
	sets := make(map[string]bool, len(rules))
	for i, r := range rules {
		switch r {
		case RuleSetOWASPCore, RuleSetBadBots, RuleSetScanners:
			sets[r] = true
		default:
			return nil, usererr.New(usererr.Usage, "edge.waf.rules[%d]: %q is not a rule set; use %s, %s or %s",
				i, clip(r), RuleSetOWASPCore, RuleSetBadBots, RuleSetScanners)
		}
	}
	return sets, nil
}

// parseCountries checks a geo list; field is "geo_allow" or "geo_deny".
func parseCountries(field string, codes []string) (map[string]bool, error) {
	set := make(map[string]bool, len(codes))
	for i, c := range codes {
		if !isCountryCode(c) {
			return nil, usererr.New(usererr.Usage, "edge.waf.%s[%d]: %q is not a country code", field, i, clip(c)).
				WithHint("use two-letter ISO 3166 codes such as ZA; ZZ stands for addresses the database cannot place")
		}
		set[c] = true
	}
	return set, nil
}

func isCountryCode(c string) bool {
	return len(c) == 2 && 'A' <= c[0] && c[0] <= 'Z' && 'A' <= c[1] && c[1] <= 'Z'
}

// clip shortens a bad value for an error message.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
