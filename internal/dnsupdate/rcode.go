package dnsupdate

import (
	"fmt"

	"github.com/miekg/dns"
)

// RcodeError is a server's refusal: its rcode, or the TSIG error it
// reported (BADSIG, BADKEY, BADTIME), in words with a hint.
type RcodeError struct {
	Op    string
	Rcode int
	TSIG  int // TSIG error field; 0 when the signature was accepted
}

func (e *RcodeError) Error() string {
	code := e.Rcode
	if e.TSIG != 0 {
		code = e.TSIG
	}
	name := dns.RcodeToString[code]
	if name == "" {
		name = fmt.Sprintf("rcode %d", code)
	}
	if e.TSIG == dns.RcodeBadSig {
		name = "BADSIG" // RcodeToString names 16 BADVERS, its EDNS meaning
	}
	if h := hint(e.TSIG, e.Rcode); h != "" {
		return fmt.Sprintf("%s: the server answered %s: %s", e.Op, name, h)
	}
	return fmt.Sprintf("%s: the server answered %s", e.Op, name)
}

func hint(tsig, rcode int) string {
	switch tsig {
	case dns.RcodeBadSig:
		return "the signature does not match: check tsig_key, tsig_algorithm and the secret"
	case dns.RcodeBadKey:
		return "the server does not know this key, or (Knot) its ACL does not let the key update this name: check tsig_key, tsig_algorithm, the server's key list and its acl"
	case dns.RcodeBadTime:
		return "the clocks of this server and the DNS server differ by more than 5 minutes: fix NTP"
	}
	switch rcode {
	case dns.RcodeNotAuth:
		return "the server is not authoritative for the zone or did not accept the key: check server (the primary), zone, tsig_key and the secret"
	case dns.RcodeRefused:
		return "the server refuses this change: allow the key to update the zone (BIND update-policy, Knot acl with action update, PowerDNS TSIG-ALLOW-DNSUPDATE)"
	case dns.RcodeNotZone:
		return "the name is not in the zone: check name and zone"
	case dns.RcodeNXRrset, dns.RcodeNameError:
		return "the zone does not exist on the server: check zone and server"
	case dns.RcodeNotImplemented:
		return "the server does not accept dynamic updates (RFC 2136)"
	case dns.RcodeServerFailure:
		return "the server failed to apply it: see its log"
	}
	return ""
}
