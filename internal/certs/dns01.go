package certs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/phoenixvc/phoenix/internal/dnsupdate"
)

// DNS01 configures the ACME DNS-01 challenge: the TXT record at
// _acme-challenge.NAME is added to, and afterwards deleted from, the zone
// on its primary with RFC 2136 UPDATE messages signed with a TSIG key
// (internal/dnsupdate). Only DNS-01 proves a wildcard, and it needs no
// inbound connection from the CA.
type DNS01 struct {
	// Server is the primary taking the updates, host:port.
	Server string
	// Zone is the zone the updates are for; "" takes the zone certmagic
	// finds by SOA lookup through Resolvers (the zone cut of the name).
	Zone string
	// Key and Algorithm name the TSIG key (Algorithm default hmac-sha256).
	Key, Algorithm string
	// Secret returns the key's base64 secret. It is called at each
	// update, so a new version in the vault is used from the next order;
	// the secret is never logged or put in an error.
	Secret func(ctx context.Context) (string, error)
	// Resolvers (host:port) answer the SOA lookup and the propagation
	// check. Empty: the system's resolvers, and the record is checked at
	// every authoritative server of the zone (NS lookup); given, the
	// record is checked at these.
	Resolvers []string
	// PropagationTimeout bounds the wait for the record to be visible;
	// 0 means 2 minutes, -1 no check.
	PropagationTimeout time.Duration
	// TTL of the challenge records; 0 means 60s.
	TTL time.Duration
}

// solver returns certmagic's DNS-01 solver over d.
func (d DNS01) solver(zl *zap.Logger) *certmagic.DNS01Solver {
	ttl := d.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{DNSProvider: &rfc2136{d: d}, TTL: ttl,
		Resolvers: d.Resolvers, PropagationTimeout: d.PropagationTimeout, Logger: zl}}
}

// rfc2136 is a libdns provider (what certmagic's DNS01Solver needs) over
// dnsupdate: it adds and deletes single TXT records, never replacing an
// RRset, since the challenges of example.com and *.example.com share
// _acme-challenge.example.com.
type rfc2136 struct{ d DNS01 }

var _ certmagic.DNSProvider = (*rfc2136)(nil)

// AppendRecords adds recs (TXT records named relative to zone).
func (p *rfc2136) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "add", zone, recs, (*dnsupdate.Client).Add)
}

// DeleteRecords deletes exactly recs.
func (p *rfc2136) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "delete", zone, recs, (*dnsupdate.Client).Delete)
}

type updateFunc func(c *dnsupdate.Client, ctx context.Context, zone string, set dnsupdate.RRset) error

func (p *rfc2136) each(ctx context.Context, what, zone string, recs []libdns.Record, op updateFunc) ([]libdns.Record, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	target := zone
	if p.d.Zone != "" {
		target = p.d.Zone
	}
	if target, err = dnsupdate.Zone(target); err != nil {
		return nil, fmt.Errorf("DNS-01 zone: %w", err)
	}
	var done []libdns.Record
	for _, r := range recs {
		set, err := txtSet(r.RR(), zone, target)
		if err != nil {
			return done, err
		}
		if err := op(c, ctx, target, set); err != nil {
			return done, fmt.Errorf("DNS-01: %s TXT %s on %s: %w", what, strings.TrimSuffix(set.Name, "."), p.d.Server, err)
		}
		done = append(done, libdns.TXT{Name: r.RR().Name, TTL: r.RR().TTL, Text: set.Values[0]})
	}
	return done, nil
}

// client returns a dnsupdate client with the secret read now.
func (p *rfc2136) client(ctx context.Context) (*dnsupdate.Client, error) {
	secret, err := p.d.Secret(ctx)
	if err != nil {
		return nil, fmt.Errorf("DNS-01: the TSIG secret: %w", err)
	}
	return &dnsupdate.Client{Server: p.d.Server, Key: dnsupdate.Key{Name: p.d.Key, Secret: secret, Algorithm: p.d.Algorithm}}, nil
}

// txtSet turns rr (named relative to zone) into the one-record RRset to
// send for target, in which it must lie.
func txtSet(rr libdns.RR, zone, target string) (dnsupdate.RRset, error) {
	if rr.Type != "TXT" || rr.Data == "" {
		return dnsupdate.RRset{}, fmt.Errorf("DNS-01: only TXT records with a value are changed, not %s %q", rr.Type, rr.Name)
	}
	name := strings.ToLower(dns.Fqdn(libdns.AbsoluteName(rr.Name, dns.Fqdn(zone))))
	if !dns.IsSubDomain(target, name) {
		return dnsupdate.RRset{}, errors.New("DNS-01: " + strings.TrimSuffix(name, ".") + " is not in zone " +
			strings.TrimSuffix(target, ".") + ": fix --acme-dns-zone, or leave it out to take the zone found by SOA lookup")
	}
	return dnsupdate.RRset{Name: name, Type: dns.TypeTXT, TTL: uint32(rr.TTL / time.Second), Values: []string{rr.Data}}, nil
}
