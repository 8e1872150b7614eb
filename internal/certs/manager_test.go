package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"path"
)

// acmeSite is what the edge does for ACME, in miniature: a plain-HTTP
// listener answering HTTP-01 challenges and a TLS listener with the
// Manager's configuration, both on 127.0.0.1, pointed at pebble.
type acmeSite struct {
	m         *Manager
	tlsAddr   string
	httpAddr  net.Addr
	plainSrv  *http.Server
	tlsSrv    *http.Server
	allowed   map[string]bool
	mu        sync.Mutex
	decisions []string
	http01    atomic.Int64 // HTTP-01 challenge requests answered
}

// setAllowed makes Allow accept name, or refuse it.
func (s *acmeSite) setAllowed(name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed[name] = ok
}

func (s *acmeSite) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.decisions)
}

func startSite(t *testing.T, ca *testkit.ACMECA, db *store.DB, keys Keys, o Options, logs *testkit.LogBuffer) *acmeSite {
	t.Helper()
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &acmeSite{httpAddr: plain.Addr(), tlsAddr: tlsLn.Addr().String(), allowed: map[string]bool{"shop.test": true}}
	roots, err := ParseRoots(mustRead(t, ca.RootsFile), ca.RootsFile)
	if err != nil {
		t.Fatal(err)
	}
	o.DB, o.Keys, o.CA, o.CARoots = db, keys, ca.URL, roots
	o.HTTPAddr, o.TLSAddr = plain.Addr(), tlsLn.Addr()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Allow = func(_ context.Context, name string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.decisions = append(s.decisions, name)
		if !s.allowed[name] {
			return NotServed(fmt.Errorf("%s is no custom domain", name))
		}
		return nil
	}
	if s.m, err = New(o); err != nil {
		t.Fatal(err)
	}
	s.plainSrv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.m.HandleHTTPChallenge(w, r) {
			http.NotFound(w, r)
			return
		}
		s.http01.Add(1)
	})}
	s.tlsSrv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s over %s", r.Host, r.Proto)
	}), TLSConfig: s.m.TLSConfig(), ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = s.plainSrv.Serve(plain) }()
	go func() { _ = s.tlsSrv.ServeTLS(tlsLn, "", "") }()
	t.Cleanup(s.stop)
	_, hp, _ := net.SplitHostPort(plain.Addr().String())
	_, tp, _ := net.SplitHostPort(s.tlsAddr)
	ca.Validate(atoi(hp), atoi(tp))
	return s
}

func (s *acmeSite) stop() {
	s.plainSrv.Close()
	s.tlsSrv.Close()
	s.m.Close()
}

func atoi(s string) int { var n int; fmt.Sscan(s, &n); return n }

func mustRead(t *testing.T, f string) []byte {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handshake connects with SNI name, trusting roots, and returns the
// server's leaf certificate.
func handshake(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestManagerObtains(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"http-01", Options{DisableTLSALPN01: true}},
		{"tls-alpn-01", Options{DisableHTTP01: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := testkit.StartACMECA(t)
			db, path := tempDB(t)
			var logs testkit.LogBuffer
			s := startSite(t, ca, db, newMemKeys(), tc.o, &logs)
			leaf, err := handshake(s.tlsAddr, "shop.test", ca.Roots())
			if err != nil {
				t.Fatalf("handshake for shop.test: %v\n%s", err, logs.String())
			}
			if leaf.VerifyHostname("shop.test") != nil || ca.Orders() != 1 {
				t.Fatalf("certificate for %v after %d orders; want shop.test after 1", leaf.DNSNames, ca.Orders())
			}
			if answered := s.http01.Load(); (answered > 0) != tc.o.DisableTLSALPN01 {
				t.Errorf("%d HTTP-01 requests answered on the plain listener", answered)
			}
			if _, err := handshake(s.tlsAddr, "evil.test", nil); err == nil {
				t.Fatal("a handshake for a name Allow refuses got a certificate")
			}
			if ca.Orders() != 1 {
				t.Errorf("%d orders after a refused name; want still 1", ca.Orders())
			}
			checkNoKeyInDB(t, db, path)
			if strings.Contains(logs.String(), "PRIVATE KEY") {
				t.Error("the log holds a PEM private key")
			}
		})
	}
}

// checkNoKeyInDB reads every stored value and, on SQLite, the database
// files for a PEM private key.
func checkNoKeyInDB(t *testing.T, db *store.DB, path string) {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM certs_values WHERE key LIKE '%.key'`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("%d stored keys (%v): the test expects the certificate's and the account's", n, err)
	}
	if db.Dialect != store.SQLite {
		return
	}
	for _, f := range []string{path, path + "-wal"} {
		raw, _ := os.ReadFile(f)
		if bytes.Contains(raw, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", f)
		}
	}
}

// TestManagerReusesStored: a second Manager on the same database (a
// restart, or another server) serves the stored certificate: no order.
func TestManagerReusesStored(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	keys := newMemKeys()
	var logs testkit.LogBuffer
	first := startSite(t, ca, db, keys, Options{}, &logs)
	leaf1, err := handshake(first.tlsAddr, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	first.stop()
	second := startSite(t, ca, db, keys, Options{}, &logs)
	leaf2, err := handshake(second.tlsAddr, "shop.test", ca.Roots())
	if err != nil {
		t.Fatal(err)
	}
	if !leaf1.Equal(leaf2) || ca.Orders() != 1 {
		t.Errorf("after a restart: same certificate %v, %d orders; want the stored one and 1 order", leaf1.Equal(leaf2), ca.Orders())
	}
}

// TestManagerSealedOrdersNothing: with the data key out of reach (a
// sealed vault) nothing is ordered, even for an allowed name.
func TestManagerSealedOrdersNothing(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	keys := newMemKeys()
	keys.setSealed(true)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, keys, Options{}, &logs)
	if _, err := handshake(s.tlsAddr, "shop.test", ca.Roots()); err == nil {
		t.Fatal("a handshake got a certificate while the data key is sealed")
	}
	if ca.Orders() != 0 || len(s.asked()) != 0 {
		t.Errorf("%d orders, Allow asked for %v; want none", ca.Orders(), s.asked())
	}
}

// TestManagerStaticFirst: a static certificate is served for the names it
// covers (no order, Allow not asked); other names go to ACME.
func TestManagerStaticFirst(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	static, pool := testkit.SelfSigned(t, "static.test")
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{Static: []tls.Certificate{static}}, &logs)
	s.setAllowed("static.test", true)
	leaf, err := handshake(s.tlsAddr, "static.test", pool)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "static.test" || ca.Orders() != 0 || len(s.asked()) != 0 {
		t.Errorf("static.test got %q after %d orders and decisions %v; want the static certificate", leaf.Subject.CommonName, ca.Orders(), s.asked())
	}
	if !s.m.Covers("STATIC.test.") || s.m.Covers("shop.test") {
		t.Error("Covers: want true for the static name only")
	}
	if _, err := handshake(s.tlsAddr, "shop.test", ca.Roots()); err != nil {
		t.Fatalf("shop.test beside a static certificate: %v", err)
	}
}

// TestManagersShareOneDatabase: two servers on one database asked for the
// same name at once order it once (the other waits on the lock in the
// database, then loads what the first stored), and a challenge the CA
// sends to either server is answered, whichever one started the order.
func TestManagersShareOneDatabase(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db1, path := tempDB(t)
	db2 := openDB(t, path)
	keys := newMemKeys()
	var logs testkit.LogBuffer
	a := startSite(t, ca, db1, keys, Options{DisableTLSALPN01: true}, &logs)
	b := startSite(t, ca, db2, keys, Options{DisableTLSALPN01: true}, &logs) // the CA now validates against b's listeners
	leaves := make(chan *x509.Certificate, 2)
	errs := make(chan error, 2)
	for _, s := range []*acmeSite{a, b} {
		go func() {
			leaf, err := handshake(s.tlsAddr, "shop.test", ca.Roots())
			errs <- err
			leaves <- leaf
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
	}
	l1, l2 := <-leaves, <-leaves
	if !l1.Equal(l2) || ca.Orders() != 1 {
		t.Errorf("same certificate %v after %d orders; want one certificate from one order", l1.Equal(l2), ca.Orders())
	}
}

// TestManagerNoEmailHalfWrittenAccount: without an email, an account seen
// half written in storage (its registration stored, not yet its key, as
// while another obtain registers) does not make certmagic register
// "mailto:default", which the CA refuses: the order goes through with an
// account without contact.
func TestManagerNoEmailHalfWrittenAccount(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	keys := newMemKeys()
	iss := certmagic.ACMEIssuer{CA: ca.URL}
	reg := path.Join("acme", certmagic.StorageKeys.Safe(iss.IssuerKey()), "users", "default", "default.json")
	if err := NewStorage(db, keys).Store(context.Background(), reg, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, keys, Options{DisableTLSALPN01: true}, &logs)
	leaf, err := handshake(s.tlsAddr, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("handshake for shop.test: %v\n%s", err, logs.String())
	}
	if leaf.VerifyHostname("shop.test") != nil {
		t.Fatalf("certificate for %v", leaf.DNSNames)
	}
	if logs.Contains("invalidContact") {
		t.Errorf("the CA refused the account's contact:\n%s", logs.String())
	}
	b, err := NewStorage(db, keys).Load(context.Background(), reg)
	if err != nil || !strings.Contains(string(b), `"status": "valid"`) || strings.Contains(string(b), "mailto:") {
		t.Errorf("the stored account: %v\n%s; want registered, without contact", err, b)
	}
}
