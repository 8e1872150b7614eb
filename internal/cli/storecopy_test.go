package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestStoreCopy moves a data dir made on SQLite (by a command that ran a
// server in-process) into PostgreSQL with 'phoenix store copy -o json',
// then runs a command on the database; without a destination the copy is
// a usage error.
func TestStoreCopy(t *testing.T) {
	data := t.TempDir()
	t.Setenv(DatabaseURLEnv, "")
	os.Unsetenv(DatabaseURLEnv)
	var out, errb bytes.Buffer
	if code := Main([]string{"--data", data, "audit", "verify"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := Main([]string{"--data", data, "store", "copy"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), DatabaseURLEnv) {
		t.Fatalf("no destination: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	t.Setenv(DatabaseURLEnv, testkit.Postgres(t).NewDatabase(t))
	if code := Main([]string{"--data", data, "store", "copy", "-o", "json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	var rep struct {
		Rows   int64
		Tables []struct {
			Table string
			Rows  int64
		}
		Audit struct{ OK bool }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	var users int64
	for _, tb := range rep.Tables {
		if tb.Table == "auth_users" {
			users = tb.Rows
		}
	}
	if rep.Rows == 0 || users != 1 || !rep.Audit.OK {
		t.Fatalf("summary: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(data, "state.postgres")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Main([]string{"--data", data, "audit", "verify"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "audit log intact") {
		t.Fatalf("on PostgreSQL after the copy: exit %d: %s%s", code, out.String(), errb.String())
	}
}
