package cli

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TestTokenCreateExpiresInTheUsersUnits: an --expires out of bounds is a
// usage error that echoes the flag as typed and the limit in days or
// hours, before any server is asked.
func TestTokenCreateExpiresInTheUsersUnits(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--expires", "400d"}, "error: --expires 400d: an API token lives at most 366 days"},
		{[]string{"--expires", "30s"}, "error: --expires 30s: a token lives at least 1 minute"},
		{[]string{"--deploy", "--project", "shop", "--env", "staging", "--expires", "2d"}, "error: --expires 2d: a deploy token lives at most 24 hours"},
		{[]string{"--expires", "soon"}, `error: --expires "soon": want a lifetime such as 30m, 12h or 90d`},
	} {
		out, errs, code := runVault(t, "", append([]string{"token", "create", "--data", data}, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %s", c.args, code, out, errs, c.want)
		}
	}
}

// TestTokenScopeHelpNamesEveryPermission: --scope's help lists every
// permission a scope may name (it listed 8 of 13).
func TestTokenScopeHelpNamesEveryPermission(t *testing.T) {
	t.Parallel()
	out, _, code := run("token", "create", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, p := range auth.Permissions {
		if !strings.Contains(out, string(p)) {
			t.Errorf("token create --help does not name %s:\n%s", p, out)
		}
	}
}
