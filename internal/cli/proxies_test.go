package cli

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	got, err := parseProxies(" 10.0.0.0/8, 192.0.2.10 ,fd00::/8,10.1.2.3/8")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.0.0.0/8")}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parseProxies = %v %v", got, err)
	}
	if got, err := parseProxies(""); err != nil || got != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	_, err = parseProxies("10.0.0.0/8,lb.internal")
	if err == nil || !strings.Contains(err.Error(), `--trusted-proxies: entry 2, "lb.internal", is not an address or a CIDR range`) {
		t.Fatalf("a host name: %v", err)
	}
}
