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
	client, _ := clientOf(r, trusted)
	return client
}

// clientOf is RealIP; viaProxy reports whether the TCP peer was one of
// trusted (so its X-Forwarded-* headers may be believed).
func clientOf(r *http.Request, trusted []netip.Prefix) (client netip.Addr, viaProxy bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return clientFrom(r, ap, trusted)
}

// clientFrom is clientOf for the TCP peer ap, already parsed (invalid:
// none, so no client either).
func clientFrom(r *http.Request, ap netip.AddrPort, trusted []netip.Prefix) (client netip.Addr, viaProxy bool) {
	if !ap.IsValid() {
		return netip.Addr{}, false
	}
	peer := ap.Addr().Unmap()
	if len(trusted) == 0 || !inPrefixes(trusted, peer) {
		return peer, false
	}
	return forwardedClient(r, trusted, peer), true
}

// forwardedClient walks X-Forwarded-For from the right past the trusted
// proxies (RealIP), starting from the trusted peer.
func forwardedClient(r *http.Request, trusted []netip.Prefix, peer netip.Addr) netip.Addr {
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
	ip, _ := useRealIP(r, trusted)
	return ip
}

// useRealIP is UseRealIP that also reports whether the peer was a
// trusted proxy.
func useRealIP(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	ip, viaProxy := clientOf(r, trusted)
	if viaProxy && ip.IsValid() {
		if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && peer.Addr().Unmap() != ip {
			r.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
		}
	}
	return ip, viaProxy
}

// cameOverHTTPS reports whether r came over HTTPS: to the edge itself, or
// to a trusted proxy in front of it (forwardedHTTPS).
func cameOverHTTPS(r *http.Request, viaProxy bool) bool {
	return r.TLS != nil || forwardedHTTPS(r, viaProxy)
}

// forwardedHTTPS reports whether a request a trusted proxy forwarded
// reached that proxy over HTTPS: X-Forwarded-Proto's first entry is
// https (a load balancer that ends TLS and speaks plain HTTP to the
// edge). Only believed from a trusted proxy (viaProxy).
func forwardedHTTPS(r *http.Request, viaProxy bool) bool {
	if !viaProxy {
		return false
	}
	v := r.Header["X-Forwarded-Proto"]
	if len(v) == 0 {
		return false
	}
	first, _, _ := strings.Cut(v[0], ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
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
