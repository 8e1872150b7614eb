// Package dnsupdate changes records on an authoritative DNS primary with the
// protocol every serious server speaks: an RFC 2136 dynamic UPDATE signed
// with TSIG (RFC 8945). BIND, Knot, PowerDNS, Windows DNS and many
// providers' hidden primaries accept it. A Client replaces one RRset
// atomically (one message: prerequisite that the zone exists, delete the
// RRset, add the new records), adds or deletes single records of an RRset
// (ACME DNS-01 challenges, two of which may share a name) and reads RRsets and the zone's SOA serial
// back from the same server, so a caller can verify what it changed.
package dnsupdate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Key is a TSIG key. Secret is base64, as BIND's and Knot's key files
// hold it.
type Key struct {
	Name      string
	Secret    string
	Algorithm string // hmac-sha256 (default), hmac-sha1, hmac-sha224, hmac-sha384, hmac-sha512
}

// Algorithms maps the accepted algorithm names to their TSIG names.
var Algorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// Client talks to one primary over TCP.
type Client struct {
	Server  string        // host:port
	Key     Key           // signs every message; a zero Key sends unsigned messages
	Timeout time.Duration // per exchange; 0 means 10s
}

// RRset is the records of one name and type. Name is absolute and
// lowercase; Values are canonical (see Canonical).
type RRset struct {
	Name   string
	Type   uint16
	TTL    uint32
	Values []string
}

// Equal reports whether s and o hold the same values (in any order) and TTL.
func (s RRset) Equal(o RRset) bool {
	if s.TTL != o.TTL || len(s.Values) != len(o.Values) {
		return false
	}
	seen := map[string]int{}
	for _, v := range s.Values {
		seen[v]++
	}
	for _, v := range o.Values {
		if seen[v] == 0 {
			return false
		}
		seen[v]--
	}
	return true
}

func (c *Client) client() (*dns.Client, error) {
	cl := &dns.Client{Net: "tcp", Timeout: c.Timeout}
	if cl.Timeout <= 0 {
		cl.Timeout = 10 * time.Second
	}
	if c.Key.Name != "" {
		if _, err := base64.StdEncoding.DecodeString(c.Key.Secret); err != nil || c.Key.Secret == "" {
			return nil, errors.New("the TSIG secret is not base64 (as in the key file's secret line)")
		}
		cl.TsigSecret = map[string]string{strings.ToLower(dns.Fqdn(c.Key.Name)): c.Key.Secret}
	}
	return cl, nil
}

func (c *Client) sign(m *dns.Msg) error {
	if c.Key.Name == "" {
		return nil
	}
	alg := c.Key.Algorithm
	if alg == "" {
		alg = "hmac-sha256"
	}
	name, ok := Algorithms[strings.ToLower(alg)]
	if !ok {
		return fmt.Errorf("TSIG algorithm %q is not supported; use hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1", alg)
	}
	m.SetTsig(strings.ToLower(dns.Fqdn(c.Key.Name)), name, 300, time.Now().Unix())
	return nil
}

// exchange sends m and returns the answer, or an *RcodeError when the
// server answered with an error (a TSIG error included).
func (c *Client) exchange(ctx context.Context, op string, m *dns.Msg) (*dns.Msg, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	if err := c.sign(m); err != nil {
		return nil, err
	}
	r, _, err := cl.ExchangeContext(ctx, m, c.Server)
	if r != nil {
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			return nil, &RcodeError{Op: op, Rcode: r.Rcode, TSIG: int(t.Error)}
		}
		// An error answer is reported as such even when its signature
		// cannot be checked (miekg/dns never verifies NOTAUTH answers):
		// it can only make the operation fail.
		if r.Rcode != dns.RcodeSuccess && (err == nil || errors.Is(err, dns.ErrAuth) || errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrNoSig)) {
			return nil, &RcodeError{Op: op, Rcode: r.Rcode}
		}
	}
	if err != nil {
		if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) || errors.Is(err, dns.ErrTime) {
			return nil, fmt.Errorf("%s: the answer from %s failed TSIG verification (%v): check tsig_key and the secret", op, c.Server, err)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s: %s did not answer within %s", op, c.Server, cl.Timeout)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if c.Key.Name != "" && r.IsTsig() == nil {
		return nil, fmt.Errorf("%s: %s answered without a TSIG signature, so the answer cannot be trusted", op, c.Server)
	}
	return r, nil
}

// Query asks the server for the RRset of name and type (no recursion). An
// absent RRset is an RRset without values.
func (c *Client) Query(ctx context.Context, name string, typ uint16) (RRset, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, typ)
	m.RecursionDesired = false
	r, err := c.exchange(ctx, "query "+strings.TrimSuffix(name, ".")+" "+dns.TypeToString[typ], m)
	var re *RcodeError
	if errors.As(err, &re) && re.TSIG == 0 && re.Rcode == dns.RcodeNameError {
		return RRset{Name: name, Type: typ}, nil
	}
	if err != nil {
		return RRset{}, err
	}
	set := RRset{Name: name, Type: typ}
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype != typ || !strings.EqualFold(h.Name, name) {
			continue
		}
		set.TTL = h.Ttl
		set.Values = append(set.Values, Value(rr))
	}
	return set, nil
}

// Serial returns the zone's SOA serial as the server has it.
func (c *Client) Serial(ctx context.Context, zone string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.RecursionDesired = false
	r, err := c.exchange(ctx, "query "+strings.TrimSuffix(zone, ".")+" SOA", m)
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, zone) {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("%s has no SOA for %s: is it a primary for that zone?", c.Server, strings.TrimSuffix(zone, "."))
}

// Replace replaces set's RRset in zone in one UPDATE message: the zone's
// SOA must exist, the old RRset is deleted and set's records added.
func (c *Client) Replace(ctx context.Context, zone string, set RRset) error {
	return c.update(ctx, zone, set, func(m *dns.Msg, rrs []dns.RR) {
		m.RemoveRRset([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: set.Name, Rrtype: set.Type, Class: dns.ClassINET}}})
		m.Insert(rrs)
	})
}

// Add adds set's records to their RRset in zone, leaving the records it
// already holds (an ACME TXT name may hold two challenges at once): the
// zone's SOA must exist. A record already present only gets set's TTL.
func (c *Client) Add(ctx context.Context, zone string, set RRset) error {
	return c.update(ctx, zone, set, (*dns.Msg).Insert)
}

// Delete removes exactly set's records (name, type and value; the TTL is
// ignored) from zone, leaving the RRset's other records; records that are
// absent are no error.
func (c *Client) Delete(ctx context.Context, zone string, set RRset) error {
	return c.update(ctx, zone, set, (*dns.Msg).Remove)
}

// update sends an UPDATE of zone whose prerequisite is the zone's SOA and
// whose change is op applied to set's records.
func (c *Client) update(ctx context.Context, zone string, set RRset, op func(*dns.Msg, []dns.RR)) error {
	rrs, err := Records(set)
	if err != nil {
		return err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.RRsetUsed([]dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET}}})
	op(m, rrs)
	_, err = c.exchange(ctx, "update "+strings.TrimSuffix(zone, "."), m)
	return err
}
