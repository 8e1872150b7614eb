package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
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
		want string
	}{
		{args: []string{"server", "--database-url", bad}, want: "--database-url"},
		{env: bad, want: "PHOENIX_DATABASE_URL: scheme"},
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
		if code != 2 || !strings.Contains(errb.String(), tc.want) || strings.Contains(errb.String(), pw) {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if _, ok := os.LookupEnv(DatabaseURLEnv); ok {
			t.Fatalf("%s stays in the environment", DatabaseURLEnv)
		}
	}
	if u, err := (databaseFlags{}).take(asFlags); u != "" || err != nil {
		t.Fatalf("default = %q, %v; want SQLite in the data dir", u, err)
	}
	good := "postgres://phoenix:" + pw + "@db.internal:5432/phoenix"
	if u, err := (databaseFlags{url: good}).take(asFlags); u != good || err != nil {
		t.Fatalf("take = %q, %v", u, err)
	}
}

// TestCommandsWithoutAServerUseTheDatabase: a command run on a data dir
// with no server starts one in-process on PHOENIX_DATABASE_URL; without
// it, a dir whose state is in PostgreSQL is refused, never given an empty
// state.db.
func TestCommandsWithoutAServerUseTheDatabase(t *testing.T) {
	data := t.TempDir()
	t.Setenv(DatabaseURLEnv, testkit.Postgres(t).NewDatabase(t))
	var out, errb bytes.Buffer
	if code := Main([]string{"--data", data, "audit", "verify"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "audit log intact") {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	os.Unsetenv(DatabaseURLEnv)
	out.Reset()
	errb.Reset()
	if code := Main([]string{"--data", data, "audit", "verify"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "PostgreSQL") {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(data, "state.db")); !os.IsNotExist(err) {
		t.Fatalf("state.db beside the PostgreSQL state: %v", err)
	}
}
