package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestACMEFlags: ACME flags without --acme, and --acme without the edge's
// HTTPS address, stop the server with a usage error naming the flag to add.
func TestACMEFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--acme-email", "ops@example.com"}, "need --acme"},
		{[]string{"--acme-domain", "www.example.com"}, "need --acme"},
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
