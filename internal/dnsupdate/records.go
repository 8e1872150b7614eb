package dnsupdate

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Types are the record types a Client replaces, by name.
var Types = map[string]uint16{"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "TXT": dns.TypeTXT}

// ParseType returns the type called s (A, AAAA, CNAME or TXT, any case).
func ParseType(s string) (uint16, error) {
	if t, ok := Types[strings.ToUpper(strings.TrimSpace(s))]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("%q is not supported; use A, AAAA, CNAME or TXT", s)
}

// Zone returns zone as an absolute, lowercase domain name.
func Zone(zone string) (string, error) {
	z := strings.ToLower(strings.TrimSpace(zone))
	if z == "" || z == "." {
		return "", fmt.Errorf("%q is not a zone: give its domain, e.g. example.com", zone)
	}
	z = dns.Fqdn(z)
	if !plainName(z) {
		return "", fmt.Errorf("%q is not a domain name", zone)
	}
	return z, nil
}

// Name returns name as an absolute, lowercase domain name in zone (which
// must be absolute): "@" and "" are the apex, a name ending in "." is
// absolute and must lie in zone, any other is relative to zone.
func Name(zone, name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case n == "" || n == "@":
		return zone, nil
	case !strings.HasSuffix(n, "."):
		n += "." + zone
	}
	if !plainName(n) {
		return "", fmt.Errorf("%q is not a domain name", name)
	}
	if !dns.IsSubDomain(zone, n) {
		return "", fmt.Errorf("%q is not in zone %s: give a name relative to the zone or one ending in .%s", name, strings.TrimSuffix(zone, "."), zone)
	}
	return n, nil
}

// plainName reports whether n is an absolute domain name of letters,
// digits, '-', '_' and '*' labels (no escapes, no empty labels).
func plainName(n string) bool {
	if _, ok := dns.IsDomainName(n); !ok || !strings.HasSuffix(n, ".") || strings.HasPrefix(n, ".") || strings.Contains(n, "..") {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*') {
			return false
		}
	}
	return true
}

// Canonical returns value in the form Value reads it back from a record
// of type typ: an address in its shortest form, a CNAME target absolute and
// lowercase (relative targets are taken relative to zone), TXT as given.
func Canonical(zone string, typ uint16, value string) (string, error) {
	switch typ {
	case dns.TypeA, dns.TypeAAAA:
		a, err := netip.ParseAddr(strings.TrimSpace(value))
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not an IP address", value)
		}
		if typ == dns.TypeA && !a.Is4() {
			return "", fmt.Errorf("%q is not an IPv4 address (an A record needs one; use type AAAA for IPv6)", value)
		}
		if typ == dns.TypeAAAA && (!a.Is6() || a.Is4In6()) {
			return "", fmt.Errorf("%q is not an IPv6 address (an AAAA record needs one; use type A for IPv4)", value)
		}
		return a.String(), nil
	case dns.TypeCNAME:
		t := strings.TrimSpace(value)
		if t == "" {
			return "", fmt.Errorf("%q is not a domain name", value)
		}
		if !strings.HasSuffix(t, ".") {
			t += "." + zone
		}
		t = strings.ToLower(t)
		if !plainName(t) {
			return "", fmt.Errorf("%q is not a domain name", value)
		}
		return t, nil
	case dns.TypeTXT:
		if len(value) > 4000 {
			return "", fmt.Errorf("a TXT value of %d bytes is too long (at most 4000)", len(value))
		}
		return value, nil
	}
	return "", fmt.Errorf("type %d is not supported", typ)
}

// Records builds set's records. Values must be canonical.
func Records(set RRset) ([]dns.RR, error) {
	if len(set.Values) == 0 {
		return nil, fmt.Errorf("no values for %s", set.Name)
	}
	if set.Type == dns.TypeCNAME && len(set.Values) != 1 {
		return nil, fmt.Errorf("a CNAME holds exactly one target, not %d", len(set.Values))
	}
	out := make([]dns.RR, 0, len(set.Values))
	for _, v := range set.Values {
		h := dns.RR_Header{Name: set.Name, Rrtype: set.Type, Class: dns.ClassINET, Ttl: set.TTL}
		switch set.Type {
		case dns.TypeA:
			out = append(out, &dns.A{Hdr: h, A: netip.MustParseAddr(v).AsSlice()})
		case dns.TypeAAAA:
			out = append(out, &dns.AAAA{Hdr: h, AAAA: netip.MustParseAddr(v).AsSlice()})
		case dns.TypeCNAME:
			out = append(out, &dns.CNAME{Hdr: h, Target: v})
		case dns.TypeTXT:
			out = append(out, &dns.TXT{Hdr: h, Txt: chunks(v)})
		default:
			return nil, fmt.Errorf("type %d is not supported", set.Type)
		}
	}
	return out, nil
}

// chunks splits a TXT value into the 255-byte strings a record holds.
func chunks(v string) []string {
	if v == "" {
		return []string{""}
	}
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

// Value returns rr's data in canonical form (see Canonical).
func Value(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.A:
		a, _ := netip.AddrFromSlice(r.A.To4())
		return a.String()
	case *dns.AAAA:
		a, _ := netip.AddrFromSlice(r.AAAA.To16())
		return a.String()
	case *dns.CNAME:
		return strings.ToLower(r.Target)
	case *dns.TXT:
		return strings.Join(r.Txt, "")
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// ServerAddr returns a DNS server's address s (host or host:port) as
// host:port, port 53 unless given.
func ServerAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("give the primary's address, e.g. ns1.example.com or 192.0.2.53:53")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), "53"
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
	}
	return net.JoinHostPort(host, port), nil
}
