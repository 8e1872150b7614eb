package cli

import (
	"strings"
	"testing"
)

// TestServeHelpNamesNoCompress: serve's help says what it compresses and how
// to turn that off.
func TestServeHelpNamesNoCompress(t *testing.T) {
	t.Parallel()
	out, _, code := run("serve", "--help")
	if code != 0 || !strings.Contains(out, "--no-compress") || !strings.Contains(out, "never into DIR") {
		t.Fatalf("serve --help: exit %d\n%s", code, out)
	}
}
