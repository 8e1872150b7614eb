package certs

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"shop.example.com": true, "xn--bcher-kva.example": true, "a-b.c1": true,
		"": false, "localhost": false, "app.localhost": false, "printer.local": false, "10.0.0.1": false,
		"*.example.com": true, "*.shop.example.com": true, "*.com": false, "*": false, "a.*.example.com": false,
		"*x.example.com": false, "**.example.com": false, "*.*.example.com": false, "*.localhost": false, "*.printer.local": false,
		"shop": false, "-a.example.com": false, "a..b": false, "Shop.example.com": false,
		"shop.example.com:443": false, strings.Repeat("a", 64) + ".com": false,
	} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v; want ok=%v", name, err, ok)
		}
	}
}

func TestWildcardOf(t *testing.T) {
	for name, want := range map[string]string{
		"a.shop.test": "*.shop.test", "x.a.shop.test": "*.a.shop.test", "shop.test": "", "*.shop.test": "", "test": "",
	} {
		if got := WildcardOf(name); got != want {
			t.Errorf("WildcardOf(%q) = %q; want %q", name, got, want)
		}
	}
}

// FuzzCheckName: an accepted name is normalized and has '*' only as its
// whole first label; a wildcard is accepted exactly when the name under it is.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"shop.example.com", "a..b", "10.0.0.1", "x.localhost", "*.example.com", "*.*.x.y", "*", "*.", "a.*.b.c", "xn--bcher-kva.example", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) != nil {
			return
		}
		if NormalizeName(name) != name || strings.ContainsAny(name, ": /") || len(name) > 253 {
			t.Fatalf("CheckName accepted %q", name)
		}
		if strings.Contains(strings.TrimPrefix(name, "*."), "*") {
			t.Fatalf("CheckName accepted %q: '*' beyond the leftmost label", name)
		}
		if w := WildcardOf(name); w != "" && (CheckName(w) == nil) != (CheckName(w[2:]) == nil) {
			t.Fatalf("wildcard %q and the name under it disagree: %v, %v", w, CheckName(w), CheckName(w[2:]))
		}
	})
}

func TestParseRoots(t *testing.T) {
	cert, _ := testkit.SelfSigned(t, "ca.test")
	good := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	if _, err := ParseRoots(good, "root.pem"); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"empty":    "",
		"key":      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
		"garbage":  string(good) + "trailing words",
		"bad cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		_, err := ParseRoots([]byte(data), "root.pem")
		if err == nil || !strings.HasPrefix(err.Error(), "root.pem: ") {
			t.Errorf("%s: %v; want an error naming the file", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: the error quotes the file's content: %v", name, err)
		}
	}
}

func FuzzParseRoots(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		pool, err := ParseRoots(data, "f")
		if (err == nil) != (pool != nil) {
			t.Fatalf("pool %v with error %v", pool, err)
		}
		if err == nil && pool.Equal(x509.NewCertPool()) {
			t.Fatal("an empty pool without an error")
		}
	})
}
