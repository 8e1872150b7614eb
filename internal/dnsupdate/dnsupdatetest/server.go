// Package dnsupdatetest runs an authoritative DNS server for one zone on
// 127.0.0.1 for tests (TCP, and UDP on the same port for resolvers that
// ask over UDP first): it answers queries from an in-memory zone and
// applies RFC 2136 UPDATE messages signed with a TSIG key (RFC 8945),
// answering BADSIG, BADKEY and REFUSED as real primaries do.
package dnsupdatetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running test primary.
type Server struct {
	Addr string // 127.0.0.1:port (TCP and UDP)
	Zone string // absolute, lowercase

	srv, udp *dns.Server
	mu       sync.Mutex
	rrs      []dns.RR
	serial   uint32
	updates  int
}

// Start serves zone over TCP and UDP on 127.0.0.1, accepting updates
// signed with the hmac-sha256 key called key whose base64 secret is
// secret. The zone starts with only its SOA.
func Start(zone, key, secret string) (*Server, error) {
	l, pc, err := listen()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: l.Addr().String(), Zone: dns.Fqdn(strings.ToLower(zone)), serial: 2026010100}
	tsig := provider{name: dns.Fqdn(strings.ToLower(key)), secret: secret}
	s.srv = &dns.Server{Listener: l, Handler: s, MsgAcceptFunc: accept, TsigProvider: tsig}
	s.udp = &dns.Server{PacketConn: pc, Handler: s, MsgAcceptFunc: accept, TsigProvider: tsig}
	for _, srv := range []*dns.Server{s.srv, s.udp} {
		if err := serve(srv); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// StartT is Start for a test: it fails t on an error and closes the
// server when t ends.
func StartT(t testing.TB, zone, key, secret string) *Server {
	t.Helper()
	s, err := Start(zone, key, secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// listen opens a TCP listener and a UDP socket on one free port of
// 127.0.0.1, trying again when the UDP port is taken.
func listen() (net.Listener, net.PacketConn, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		if err == nil {
			return l, pc, nil
		}
		l.Close()
	}
	return nil, nil, errors.New("dnsupdatetest: no port free for both TCP and UDP")
}

// serve starts srv and returns once it serves.
func serve(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	errc := make(chan error, 1)
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-errc:
		return err
	}
}

// accept takes queries and updates (miekg/dns refuses updates by default)
// with one question; the handler checks the rest.
func accept(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	switch op := int(dh.Bits>>11) & 0xF; {
	case dh.Bits&qr != 0:
		return dns.MsgIgnore
	case op != dns.OpcodeQuery && op != dns.OpcodeUpdate:
		return dns.MsgRejectNotImplemented
	case dh.Qdcount != 1:
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// Close stops the server.
func (s *Server) Close() error {
	var errs []error
	for _, srv := range []*dns.Server{s.srv, s.udp} {
		if srv != nil {
			errs = append(errs, srv.Shutdown())
		}
	}
	return errors.Join(errs...)
}

// Values returns the data of the zone's records of name and type, e.g.
// the TXT values at _acme-challenge.example.com.
func (s *Server) Values(name string, typ uint16) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, rr := range s.rrs {
		if h := rr.Header(); h.Rrtype == typ && strings.EqualFold(h.Name, dns.Fqdn(name)) {
			out = append(out, strings.TrimPrefix(rr.String(), h.String()))
		}
	}
	return out
}

// Add puts records into the zone (as if loaded from its zone file), e.g.
// "www 300 IN A 192.0.2.1".
func (s *Server) Add(records ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		rr, err := dns.NewRR("$ORIGIN " + s.Zone + "\n" + r)
		if err != nil {
			return err
		}
		s.rrs = append(s.rrs, rr)
	}
	return nil
}

// Updates returns how many UPDATE messages the server received.
func (s *Server) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// Serial returns the zone's SOA serial.
func (s *Server) Serial() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serial
}

// ServeDNS answers queries and applies updates.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	if len(r.Question) != 1 {
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	t := r.IsTsig()
	switch {
	case t != nil && w.TsigStatus() != nil:
		m.SetRcode(r, dns.RcodeNotAuth)
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
		m.Extra[len(m.Extra)-1].(*dns.TSIG).Error = tsigError(w.TsigStatus())
	case r.Opcode == dns.OpcodeUpdate && t == nil:
		m.SetRcode(r, dns.RcodeRefused)
	case r.Opcode == dns.OpcodeUpdate:
		m.SetRcode(r, s.update(r))
	default:
		s.query(r, m)
	}
	if t != nil && m.IsTsig() == nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	}
	_ = w.WriteMsg(m)
}

func tsigError(err error) uint16 {
	switch err {
	case dns.ErrSecret, dns.ErrKeyAlg:
		return dns.RcodeBadKey
	case dns.ErrTime:
		return dns.RcodeBadTime
	}
	return dns.RcodeBadSig
}

func (s *Server) query(r, m *dns.Msg) {
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(s.Zone, name) {
		m.Rcode = dns.RcodeRefused
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Qtype == dns.TypeSOA && name == s.Zone {
		m.Answer = append(m.Answer, s.soa())
		return
	}
	exists := name == s.Zone
	for _, rr := range s.rrs {
		h := rr.Header()
		if strings.EqualFold(h.Name, name) {
			exists = true
			if h.Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
}

func (s *Server) soa() dns.RR {
	return &dns.SOA{Hdr: dns.RR_Header{Name: s.Zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns: "ns1." + s.Zone, Mbox: "hostmaster." + s.Zone, Serial: s.serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
}

// update applies r per RFC 2136 section 3 and returns the rcode.
func (s *Server) update(r *dns.Msg) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	if !strings.EqualFold(r.Question[0].Name, s.Zone) || r.Question[0].Qtype != dns.TypeSOA {
		return dns.RcodeNotAuth
	}
	for _, p := range r.Answer { // prerequisites: only "RRset exists" on the apex SOA is served here
		h := p.Header()
		if h.Class != dns.ClassANY || h.Rrtype != dns.TypeSOA || !strings.EqualFold(h.Name, s.Zone) {
			return dns.RcodeNXRrset
		}
	}
	for _, u := range r.Ns {
		if !dns.IsSubDomain(s.Zone, strings.ToLower(u.Header().Name)) {
			return dns.RcodeNotZone
		}
	}
	before := len(s.rrs)
	changed := false
	for _, u := range r.Ns {
		h := u.Header()
		switch h.Class {
		case dns.ClassANY:
			s.remove(func(rr dns.RR) bool {
				return strings.EqualFold(rr.Header().Name, h.Name) && (h.Rrtype == dns.TypeANY || rr.Header().Rrtype == h.Rrtype)
			})
		case dns.ClassNONE: // delete one record: name, type and data
			want := dns.Copy(u)
			want.Header().Class = dns.ClassINET
			s.remove(func(rr dns.RR) bool { return dns.IsDuplicate(rr, want) })
		case dns.ClassINET:
			changed = s.add(u) || changed
		default:
			return dns.RcodeFormatError
		}
	}
	if changed || len(s.rrs) != before {
		s.serial++
	}
	return dns.RcodeSuccess
}

func (s *Server) remove(match func(dns.RR) bool) {
	kept := s.rrs[:0]
	for _, rr := range s.rrs {
		if !match(rr) {
			kept = append(kept, rr)
		}
	}
	s.rrs = kept
}

// add adds u unless it is present, or it is a CNAME beside other data (or
// other data beside a CNAME), which RFC 2136 section 3.4.2.2 ignores.
func (s *Server) add(u dns.RR) bool {
	h := u.Header()
	for _, rr := range s.rrs {
		if !strings.EqualFold(rr.Header().Name, h.Name) {
			continue
		}
		if (h.Rrtype == dns.TypeCNAME) != (rr.Header().Rrtype == dns.TypeCNAME) {
			return false
		}
		if dns.IsDuplicate(rr, u) {
			rr.Header().Ttl = h.Ttl
			return true
		}
	}
	s.rrs = append(s.rrs, dns.Copy(u))
	return true
}

// provider signs and verifies with one key bound to hmac-sha256, as real
// servers bind a key to its algorithm: another name or algorithm is
// BADKEY, another secret BADSIG.
type provider struct{ name, secret string }

func (p provider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	if !strings.EqualFold(t.Hdr.Name, p.name) {
		return nil, dns.ErrSecret
	}
	if dns.CanonicalName(t.Algorithm) != dns.HmacSHA256 {
		return nil, dns.ErrKeyAlg
	}
	raw, err := base64.StdEncoding.DecodeString(p.secret)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, raw)
	h.Write(msg)
	return h.Sum(nil), nil
}

func (p provider) Verify(msg []byte, t *dns.TSIG) error {
	want, err := p.Generate(msg, t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(want, got) {
		return dns.ErrSig
	}
	return nil
}
