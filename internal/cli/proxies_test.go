package cli

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestParseProxies(t *testing.T) {
	t.Parallel()
	got, err := parseRanges("--trusted-proxies", " 10.0.0.0/8, 192.0.2.10 ,fd00::/8,10.1.2.3/8")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.0.0.0/8")}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parseProxies = %v %v", got, err)
	}
	if got, err := parseRanges("--trusted-proxies", ""); err != nil || got != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	_, err = parseRanges("--trusted-proxies", "10.0.0.0/8,lb.internal")
	if err == nil || !strings.Contains(err.Error(), `--trusted-proxies: entry 2, "lb.internal", is not an address or a CIDR range`) {
		t.Fatalf("a host name: %v", err)
	}
	_, err = parseRanges("--edge-metrics-allow", "192.0.2.0/33")
	if err == nil || !strings.Contains(err.Error(), `--edge-metrics-allow: entry 1, "192.0.2.0/33"`) ||
		!strings.Contains(usererr.HintOf(err), "--edge-metrics-allow 10.0.0.0/8") {
		t.Fatalf("a bad prefix length: %v (hint %q)", err, usererr.HintOf(err))
	}
}

func TestParseSitesDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "Apps.Example.COM.": "apps.example.com", " sites.corp.internal ": "sites.corp.internal"} {
		if got, err := parseSitesDomain("--sites-domain", in); err != nil || got != want {
			t.Errorf("parseSitesDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"example":                        "a single label",
		"apps.localhost":                 "under localhost",
		"apps..example.com":              `label ""`,
		"https://example.com":            `label "https://example"`,
		"*.example.com":                  `label "*"`,
		strings.Repeat("a.", 70) + "com": "longer than 125",
	} {
		_, err := parseSitesDomain("--sites-domain", in)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "--sites-domain") {
			t.Errorf("parseSitesDomain(%q): %v, want an error naming --sites-domain and %q", in, err, msg)
		}
	}
}

// FuzzParseSitesDomain: any flag value is refused or comes back as a name
// the edge can route under: lower case, no empty label, within DNS limits.
func FuzzParseSitesDomain(f *testing.F) {
	for _, s := range []string{"apps.example.com", "A.B.", "x..y", "é.example.com", strings.Repeat("a", 64) + ".com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseSitesDomain("--sites-domain", s)
		if err != nil || d == "" {
			return
		}
		if d != strings.ToLower(d) || strings.Contains(d, "..") || strings.HasSuffix(d, ".") || len(d) > 125 {
			t.Fatalf("parseSitesDomain(%q) = %q", s, d)
		}
	})
}

// TestParsePublicURL: --public-url is an absolute http(s) URL without
// query, fragment or user; a trailing slash goes.
func TestParsePublicURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "https://phoenix.example.com/": "https://phoenix.example.com",
		" http://10.0.0.5:7070 ": "http://10.0.0.5:7070", "https://example.com/phoenix": "https://example.com/phoenix"} {
		if got, err := parsePublicURL("--public-url", in); err != nil || got != want {
			t.Errorf("parsePublicURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"phoenix.example.com", "ftp://x.example", "https://", "https://x.example/?a=1", "https://x.example/#f", "https://u:hunter2@x.example"} {
		_, err := parsePublicURL("--public-url", in)
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(usererr.HintOf(err), "--public-url https://") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parsePublicURL(%q): %v", in, err)
		}
	}
}

func FuzzParsePublicURL(f *testing.F) {
	for _, s := range []string{"https://phoenix.example.com/", "http://[::1]:7070", "https://x/%zz", "https://x/a?b", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parsePublicURL("--public-url", s)
		if err != nil || got == "" {
			return
		}
		u, err := url.Parse(got + "/ui/runs/1")
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || strings.HasSuffix(got, "/") {
			t.Fatalf("parsePublicURL(%q) = %q", s, got)
		}
	})
}
