package app

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestEdgeServesEachCertificatePairByName: with two --edge-tls-cert pairs
// (purchased certificates of unrelated domains) each client gets the one
// covering the name it asks for, and one asking for another name (or
// none) the first; on the edge's one listener and on --edge-tls-listen
// alike. Before, a second pair replaced the first without a word.
func TestEdgeServesEachCertificatePairByName(t *testing.T) {
	t.Parallel()
	shop, _ := testkit.SelfSigned(t, "shop.test")
	blog, _ := testkit.SelfSigned(t, "blog.example")
	shopCert, shopKey := testkit.WriteKeyPair(t, t.TempDir(), shop)
	blogCert, blogKey := testkit.WriteKeyPair(t, t.TempDir(), blog)
	for _, tc := range []struct {
		name   string
		listen string
		addr   func(*App) net.Addr
	}{
		{"one listener", "", (*App).EdgeAddr},
		{"HTTPS listener", "127.0.0.1:0", (*App).EdgeTLSAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF, Proc: "-",
				EdgeTLSListen: tc.listen, EdgeTLSCert: []string{shopCert, blogCert}, EdgeTLSKey: []string{shopKey, blogKey}})
			for sni, want := range map[string]*tls.Certificate{"shop.test": &shop, "blog.example": &blog, "www.other.test": &shop, "": &shop} {
				c, err := tls.Dial("tcp", tc.addr(a).String(), &tls.Config{ServerName: sni, InsecureSkipVerify: true})
				if err != nil {
					t.Fatalf("SNI %q: %v", sni, err)
				}
				got := c.ConnectionState().PeerCertificates[0]
				c.Close()
				if !got.Equal(want.Leaf) {
					t.Errorf("SNI %q: served the certificate of %v, want %v", sni, got.DNSNames, want.Leaf.DNSNames)
				}
			}
		})
	}
}
