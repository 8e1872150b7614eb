package edgepolicy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestBuild: header rules in their order, the rate limit with its exempt
// ranges, a firewall only when the mode asks for one, and geo lists
// without a database refused naming the field.
func TestBuild(t *testing.T) {
	e, err := config.ParseEdge([]byte(`{"headers":[
		{"name":"second","order":2,"set":{"X-B":"2"}},{"name":"first","order":1,"match":{"scheme":"https"},"set":{"X-A":"1"}}],
		"rate_limit":{"requests":10,"per":"30s","burst":5,"exempt":["192.0.2.7","10.1.2.3/8"]},
		"waf":{"mode":"detect","rules":["scanners"]}}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Headers) != 2 || p.Headers[0].Name != "first" || p.Headers[0].Scheme != "https" || p.Headers[1].Name != "second" {
		t.Errorf("headers %+v", p.Headers)
	}
	rl := p.RateLimit
	if rl == nil || rl.Requests != 10 || rl.Per != 30*time.Second || rl.Burst != 5 ||
		len(rl.Exempt) != 2 || rl.Exempt[0] != netip.MustParsePrefix("192.0.2.7/32") || rl.Exempt[1] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("rate limit %+v", rl)
	}
	if p.Firewall == nil {
		t.Error("no firewall for detect mode")
	}
	if p, err := Build(nil, nil); err != nil || p.Firewall != nil || p.RateLimit != nil || len(p.Headers) != 0 {
		t.Errorf("nil section: %+v %v", p, err)
	}
	off, _ := config.ParseEdge([]byte(`{"waf":{"mode":"off","rules":["owasp-core"]}}`), "test")
	if p, err := Build(off, nil); err != nil || p.Firewall != nil {
		t.Errorf("mode off: %+v %v", p, err)
	}
	geo, _ := config.ParseEdge([]byte(`{"waf":{"mode":"block","geo_deny":["KP"]}}`), "test")
	if _, err := Build(geo, nil); err == nil || !strings.Contains(err.Error(), "edge.waf.geo_deny needs a GeoIP database") {
		t.Errorf("geo without a database: %v", err)
	}
}

// An exempt entry that is no range is refused naming its own field (the
// API's policy may come without config's checks), and a mapped range is
// read as the IPv4 range the edge matches.
func TestBuildExemptRanges(t *testing.T) {
	e := &config.Edge{RateLimit: &config.RateLimit{Requests: 5, Per: config.Duration(time.Minute), Exempt: []string{"::ffff:192.0.2.0/120", "probe.internal"}}}
	if _, err := Build(e, nil); err == nil || !strings.Contains(err.Error(), `edge.rate_limit.exempt[1]: "probe.internal"`) {
		t.Fatalf("a host name as exempt: %v", err)
	}
	e.RateLimit.Exempt = e.RateLimit.Exempt[:1]
	p, err := Build(e, nil)
	if err != nil || p.RateLimit.Exempt[0] != netip.MustParsePrefix("192.0.2.0/24") {
		t.Fatalf("mapped exempt range: %+v %v", p, err)
	}
}
