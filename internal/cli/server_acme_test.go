package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestACMEFlags: ACME flags without --acme, and --acme without the edge's
// HTTPS address, stop the server with a usage error naming the flag to add.
func TestACMEFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--acme-email", "ops@example.com"}, "--acme-email needs --acme"},
		{[]string{"--acme-domain", "www.example.com", "--acme-ca-root", "ca.pem"}, "--acme-ca-root and --acme-domain need --acme"},
		{[]string{"--acme"}, "--edge-tls-listen"},
		{[]string{"--edge-tls-listen", "127.0.0.1:0"}, "--acme, or --edge-tls-cert"},
		{[]string{"--acme", "--edge-tls-listen", "127.0.0.1:0", "--acme-domain", "printer.local"}, "--acme-domain"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"--data", t.TempDir(), "server", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"}, tc.args...)
		if code := Main(args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d: %s; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// TestACMEDNSFlags: incomplete or malformed DNS-01 flags stop the server
// with a usage error naming the flag; a secret pasted in place of its
// vault name is never echoed; a wildcard --acme-domain needs DNS-01.
func TestACMEDNSFlags(t *testing.T) {
	t.Parallel()
	const pasted = "c2VjcmV0LXBhc3RlZC1ieS1taXN0YWtlPT0="
	base := []string{"--acme", "--edge-tls-listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--acme-dns-server", "127.0.0.1:53"}, "--acme-dns-tsig-key"},
		{[]string{"--acme-dns-server", "127.0.0.1:53", "--acme-dns-tsig-key", "k"}, "--acme-dns-tsig-secret"},
		{[]string{"--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S"}, "need --acme-dns-server"},
		{[]string{"--acme-dns-server", "127.0.0.1:53", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", pasted}, "must name a vault secret"},
		{[]string{"--acme-dns-server", "127.0.0.1:99999", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S"}, "--acme-dns-server"},
		{[]string{"--acme-dns-server", "ns1", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S", "--acme-dns-tsig-algorithm", "md5"}, "--acme-dns-tsig-algorithm"},
		{[]string{"--acme-dns-server", "ns1", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S", "--acme-dns-zone", "a..b"}, "--acme-dns-zone"},
		{[]string{"--acme-dns-server", "ns1", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S", "--acme-dns-resolver", "a b"}, "--acme-dns-resolver"},
		{[]string{"--acme-dns-server", "ns1", "--acme-dns-tsig-key", "k", "--acme-dns-tsig-secret", "S", "--acme-dns-propagation-timeout", "0s"}, "--acme-dns-propagation-timeout"},
		{[]string{"--acme-domain", "*.example.com"}, "--acme-dns-server"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"--data", t.TempDir(), "server", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"}, base...)
		if code := Main(append(args, tc.args...), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d: %s; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
		if strings.Contains(errb.String(), pasted) {
			t.Errorf("%v: the pasted secret is echoed", tc.args)
		}
	}
	var out, errb bytes.Buffer
	args := []string{"--data", t.TempDir(), "server", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0", "--acme-dns-server", "ns1"}
	if code := Main(args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--acme-dns-server needs --acme") {
		t.Errorf("DNS-01 flags without --acme: exit %d: %s", code, errb.String())
	}
}

// TestACMEDNSOptions: complete flags become the app's DNS-01 settings,
// addresses with port 53 unless given, the zone absolute.
func TestACMEDNSOptions(t *testing.T) {
	t.Parallel()
	d := dnsFlags{server: "ns1.example.com", zone: "Example.com", key: "phoenix-acme", secret: "ACME_TSIG", algorithm: "HMAC-SHA512",
		resolvers: []string{"192.0.2.53", "[2001:db8::53]:5353"}, timeout: time.Minute}
	o, err := d.options(asFlags)
	if err != nil {
		t.Fatal(err)
	}
	if o.Server != "ns1.example.com:53" || o.Zone != "example.com." || o.Key != "phoenix-acme" || o.SecretName != "ACME_TSIG" ||
		o.Algorithm != "hmac-sha512" || !slices.Equal(o.Resolvers, []string{"192.0.2.53:53", "[2001:db8::53]:5353"}) || o.PropagationTimeout != time.Minute {
		t.Errorf("options %+v", o)
	}
	if o, err := (dnsFlags{algorithm: "hmac-sha256", timeout: 2 * time.Minute}).options(asFlags); o != nil || err != nil {
		t.Errorf("no DNS-01 flags: %+v, %v; want nil, nil", o, err)
	}
}
