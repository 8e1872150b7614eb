package edge

import (
	"net/http"
	"net/netip"
	"strings"
)

// forwardedFor is the header trusted proxies name the client in.
const forwardedFor = "X-Forwarded-For"

// maxForwardedHops bounds how many X-Forwarded-For entries are read.
const maxForwardedHops = 32

// RealIP returns the client of r: the TCP peer, unless the peer is one of
// trusted (a load balancer or proxy in front of the edge), in which case
// X-Forwarded-For is read from the right, past every trusted proxy, and
// the first address that is not one is the client (nginx's realip with
// real_ip_recursive, Caddy's trusted_proxies). An entry that is not an
// address stops the walk at the proxy that wrote it. Without trusted
// proxies the header is never read, so a client cannot choose its address.
func RealIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if len(trusted) == 0 || !inPrefixes(trusted, peer) {
		return peer
	}
	client := peer
	values := r.Header[forwardedFor]
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		list := values[i]
		for list != "" && hops < maxForwardedHops {
			hops++
			var entry string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				entry, list = list[j+1:], list[:j]
			} else {
				entry, list = list, ""
			}
			a, ok := parseForwarded(strings.TrimSpace(entry))
			if !ok {
				return client
			}
			client = a
			if !inPrefixes(trusted, a) {
				return a
			}
		}
	}
	return client
}

// UseRealIP is RealIP that also makes a forwarded client r.RemoteAddr
// (port 0), for the handlers after it: sign-in limits, logs, the API.
// Only for a request the caller owns (not the lean loop's, which it
// reuses).
func UseRealIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ip := RealIP(r, trusted)
	if len(trusted) > 0 && ip.IsValid() {
		if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && peer.Addr().Unmap() != ip {
			r.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
		}
	}
	return ip
}

// parseForwarded reads one X-Forwarded-For entry: an address, possibly
// with a port ("203.0.113.7:4711", "[2001:db8::1]:443").
func parseForwarded(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
