package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestDatabaseURLFlag: --database-url and its PHOENIX_DATABASE_URL mirror
// reach the server; a URL of another engine stops it with a usage error
// naming the flag and not the password; the mirror leaves the
// environment, so pipeline steps do not inherit it.
func TestDatabaseURLFlag(t *testing.T) {
	const pw = "cli-db-password-51c"
	bad := "mysql://phoenix:" + pw + "@db.internal/phoenix"
	for _, tc := range []struct {
		args []string
		env  string
	}{
		{args: []string{"server", "--database-url", bad}},
		{env: bad},
	} {
		if tc.env != "" {
			t.Setenv(DatabaseURLEnv, tc.env)
		}
		var out, errb bytes.Buffer
		args := append([]string{"--data", t.TempDir()}, tc.args...)
		if len(tc.args) == 0 {
			args = append(args, "server")
		}
		code := Main(args, nil, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), "--database-url") || strings.Contains(errb.String(), pw) {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if _, ok := os.LookupEnv(DatabaseURLEnv); ok {
			t.Fatalf("%s stays in the environment", DatabaseURLEnv)
		}
	}
	if u, err := (databaseFlags{}).take(); u != "" || err != nil {
		t.Fatalf("default = %q, %v; want SQLite in the data dir", u, err)
	}
	good := "postgres://phoenix:" + pw + "@db.internal:5432/phoenix"
	if u, err := (databaseFlags{good}).take(); u != good || err != nil {
		t.Fatalf("take = %q, %v", u, err)
	}
}
