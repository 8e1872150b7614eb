package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestStoreCopy moves a real server from SQLite to PostgreSQL with the
// binary: the copy is refused while the server runs (its data dir lock),
// done once it is stopped, and the server started with the database URL
// serves the same release and verifies its audit log; started without
// it, it refuses the data dir. The password never shows.
func TestStoreCopy(t *testing.T) {
	const pw = "store-copy-password-e2e"
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+pw+"@", 1)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	env := []string{"PHOENIX_DATA=" + data}
	deployShop(t, work, env, "release-before-the-copy")

	r := run(t, work, nil, "store", "copy", "--data", data, "--to", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "in use") || !strings.Contains(r.stderr, "stop the server") {
		t.Fatalf("copy while the server runs: %+v", r)
	}
	stop(t, s)
	r = run(t, work, nil, "store", "copy", "--data", data, "--to", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "audit log intact") || !strings.Contains(r.stdout, "auth_users") {
		t.Fatalf("copy: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Fatalf("the copy printed the password: %+v", r)
	}
	if r := run(t, work, nil, "server", "--data", data, "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"); r.code != 2 ||
		!strings.Contains(r.stderr, "PostgreSQL") {
		t.Fatalf("a start on state.db after the copy: %+v", r)
	}
	pg := startServerWith(t, data, []string{"PHOENIX_DATABASE_URL=" + dsn})
	if code, body := pg.get(t, "production.shop.localhost", "/"); code != 200 || !strings.Contains(body, "release-before-the-copy") {
		t.Fatalf("edge on PostgreSQL: %d %q", code, body)
	}
	if r := run(t, work, env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "audit log intact") {
		t.Fatalf("audit verify on PostgreSQL: %+v", r)
	}
	deployShop(t, work, env, "release-after-the-copy")
	if code, body := pg.get(t, "production.shop.localhost", "/"); code != 200 || !strings.Contains(body, "release-after-the-copy") {
		t.Fatalf("a deploy after the copy: %d %q", code, body)
	}
	if strings.Contains(pg.logs.String(), pw) {
		t.Fatal("the server's log shows the password")
	}
}
