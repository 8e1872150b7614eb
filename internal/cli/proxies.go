package cli

import (
	"net/netip"
	"strings"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// trustedProxiesHelp is the --trusted-proxies flag's help.
const trustedProxiesHelp = "load balancers in front (CIDR ranges or addresses, comma-separated): from them the client is read from X-Forwarded-For"

// metricsAllowHelp is the help of --edge-metrics-allow and --metrics-allow.
const metricsAllowHelp = "clients besides loopback that may read the edge's /metrics, e.g. your Prometheus (CIDR ranges or addresses, comma-separated)"

// parseRanges reads a flag of CIDR ranges or single addresses,
// comma-separated (--trusted-proxies, --edge-metrics-allow); an error
// names the flag (or the variable that gave it) and the entry.
func parseRanges(flag, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, ok := deploy.ParseRange(part)
		if !ok {
			return nil, usererr.New(usererr.Usage, "%s: entry %d, %q, is not an address or a CIDR range", flag, i+1, part).
				WithHint("write e.g. %s", example(flag, "10.0.0.0/8,192.0.2.10"))
		}
		out = append(out, p)
	}
	return out, nil
}
