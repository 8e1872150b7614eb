package config

import (
	"net/http"
	"regexp"
	"strings"
	"time"
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
	Mode     string   `yaml:"mode" json:"mode" enum:"off,detect,block" doc:"off, detect (log only) or block (default off)."`
	Rules    []string `yaml:"rules" json:"rules,omitempty" enum:"owasp-core,bad-bots,scanners" doc:"Rule sets to apply."`
	GeoAllow []string `yaml:"geo_allow" json:"geo_allow,omitempty" doc:"ISO country codes allowed; empty allows all (needs a GeoIP database)."`
	GeoDeny  []string `yaml:"geo_deny" json:"geo_deny,omitempty" doc:"ISO country codes blocked."`
}

var countryRx = regexp.MustCompile(`^[A-Z]{2}$`)

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
		for name := range h.Set {
			if strings.EqualFold(http.CanonicalHeaderKey(name), "Set-Cookie") {
				v.errorf(joinPath(p+".set", name), "cookies are the application's business", "Set-Cookie cannot be set by a rule")
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
}
