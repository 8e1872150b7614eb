package testkit

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// ACMECA is pebble, Let's Encrypt's test CA, running in the test process:
// its ACME API on a 127.0.0.1 HTTPS server, and its validation authority
// doing real HTTP-01 and TLS-ALPN-01 validation against 127.0.0.1 (every
// name resolves there through its own DNS server) on the ports Validate
// names, and real DNS-01 validation against the DNS server DelegateTXT
// names. Nonces are never rejected and the validation authority does not
// sleep, so orders complete in well under a second.
type ACMECA struct {
	URL       string // the ACME directory
	RootsFile string // PEM of the API's TLS certificate: what --acme-ca-root takes

	api     *httptest.Server
	db      *db.MemoryStore
	ca      *ca.CAImpl
	dns     string
	txt     atomic.Pointer[string] // DelegateTXT's server
	logger  *log.Logger
	mu      sync.Mutex
	handler http.Handler // nil until Validate
	orders  atomic.Int64
	nx      sync.Map // name (FQDN) -> true: answered NXDOMAIN (Unresolvable)
}

// StartACMECA starts pebble; it stops when t ends. It sets pebble's
// environment variables, so t must not be parallel.
func StartACMECA(t testing.TB) *ACMECA {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_VA_ALWAYS_VALID", "")
	p := &ACMECA{db: db.NewMemoryStore(), logger: log.New(io.Discard, "", 0)}
	p.ca = ca.New(p.logger, p.db, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	p.dns = p.startDNS(t)
	p.api = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.api.Config.ErrorLog = p.logger
	p.api.StartTLS()
	t.Cleanup(p.api.Close)
	p.URL = p.api.URL + wfe.DirectoryPath
	p.RootsFile = filepath.Join(t.TempDir(), "acme-ca-root.pem")
	der := p.api.Certificate().Raw
	if err := os.WriteFile(p.RootsFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Validate starts answering ACME requests, validating challenges on
// 127.0.0.1 at httpPort (HTTP-01) and tlsPort (TLS-ALPN-01). Before it,
// the API answers 503.
func (p *ACMECA) Validate(httpPort, tlsPort int) {
	v := va.New(p.logger, httpPort, tlsPort, false, p.dns, p.db)
	w := wfe.New(p.logger, p.db, v, p.ca, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	p.mu.Lock()
	p.handler = w.Handler()
	p.mu.Unlock()
}

func (p *ACMECA) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	h := p.handler
	p.mu.Unlock()
	if h == nil {
		http.Error(w, "ACMECA.Validate was not called yet", http.StatusServiceUnavailable)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/order-plz" {
		p.orders.Add(1)
	}
	h.ServeHTTP(w, r)
}

// Orders is the number of new-order requests the CA received.
func (p *ACMECA) Orders() int { return int(p.orders.Load()) }

// Roots is the pool of the root that signs the certificates pebble issues.
func (p *ACMECA) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	for i := range p.ca.GetNumberOfRootCerts() {
		pool.AddCert(p.ca.GetRootCert(i).Cert)
	}
	return pool
}

// DelegateTXT makes the validation authority ask the DNS server at addr
// (host:port, TCP) for TXT records, as DNS-01 validation does: a test
// zone that dnsupdate changes (dnsupdatetest, or knotd).
func (p *ACMECA) DelegateTXT(addr string) { p.txt.Store(&addr) }

// Unresolvable makes the names' DNS answer NXDOMAIN, so validating them
// fails as it does for a name whose DNS does not point at the edge yet.
func (p *ACMECA) Unresolvable(names ...string) {
	for _, n := range names {
		p.nx.Store(dns.Fqdn(n), true)
	}
}

// startDNS serves DNS over TCP on 127.0.0.1 (pebble asks over TCP),
// answering every A question with 127.0.0.1 (NXDOMAIN for the names
// made Unresolvable), TXT questions from the
// DelegateTXT server when there is one, and everything else with no
// records; it returns its address.
func (p *ACMECA) startDNS(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		if to := p.txt.Load(); to != nil && len(q.Question) == 1 && q.Question[0].Qtype == dns.TypeTXT {
			forward(w, q, *to)
			return
		}
		m := new(dns.Msg)
		m.SetReply(q)
		if len(q.Question) == 1 {
			if _, nx := p.nx.Load(q.Question[0].Name); nx {
				m.SetRcode(q, dns.RcodeNameError)
				_ = w.WriteMsg(m)
				return
			}
		}
		for _, qu := range q.Question {
			if qu.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qu.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// forward relays q to the DNS server at addr over TCP and its answer back;
// a failure answers SERVFAIL.
func forward(w dns.ResponseWriter, q *dns.Msg, addr string) {
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, addr)
	if err != nil {
		r = new(dns.Msg)
		r.SetRcode(q, dns.RcodeServerFailure)
	}
	r.Id = q.Id
	_ = w.WriteMsg(r)
}
