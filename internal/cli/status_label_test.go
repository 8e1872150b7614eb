package cli

import "testing"

// TestEnvLabel: an environment shows as project/env; the server's own
// alert instances (host, certificate, replica) show as they are, not cut
// at their first dot.
func TestEnvLabel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"production.shop":                   "shop/production",
		"":                                  "",
		"tls:www.example.com":               "tls:www.example.com",
		"replica:http://10.0.0.6:7070":      "replica:http://10.0.0.6:7070",
		"replica:https://a.example.com:443": "replica:https://a.example.com:443",
	} {
		if got := envLabel(in); got != want {
			t.Errorf("envLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
