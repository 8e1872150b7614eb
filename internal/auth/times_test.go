package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The store compares and orders times as text. These tests put two times
// in the same second, one on the second itself: written in RFC3339Nano
// ("…:00Z", "…:00.5Z"), the whole second sorted after the half ('Z' > '.').

func tokenNames(t *testing.T, f *fixture) []string {
	t.Helper()
	ts, err := f.svc.Tokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range ts {
		names = append(names, tok.Name)
	}
	return names
}

// TestTokensListInCreationOrderWithinASecond: a token made on the second
// is listed before one made half a second later.
func TestTokensListInCreationOrderWithinASecond(t *testing.T) {
	f := newFixture(t)
	pr := f.user(t, "alice", Grant{Role: RoleAdmin})
	for _, name := range []string{"first", "second"} {
		if _, _, err := f.svc.CreateToken(ctx, pr, TokenRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(500 * time.Millisecond)
	}
	if got := strings.Join(tokenNames(t, f), " "); got != "first second" {
		t.Fatalf("tokens listed %q, want first second", got)
	}
}

// TestSignInPrunesASessionExpiredWithinTheSecond: a sign-in half a second
// after a session expired (on the second) deletes it.
func TestSignInPrunesASessionExpiredWithinTheSecond(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", Grant{Role: RoleViewer})
	login := func() {
		t.Helper()
		if _, err := f.svc.Login(ctx, nil, Credentials{Username: "alice", Password: "correct horse battery"}, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	login()
	f.now = f.now.Add(f.svc.opts.SessionTTL + 500*time.Millisecond)
	login()
	var n int
	if err := f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d sessions after a sign-in past the first one's expiry, want 1 (the expired one deleted)", n)
	}
}

// TestTimesMigration: times stored in RFC3339Nano before migration 005
// are rewritten with nine fraction digits, so they order right, and read
// (and show in JSON) as they did.
func TestTimesMigration(t *testing.T) {
	f := newFixture(t)
	pr := f.user(t, "alice", Grant{Role: RoleAdmin})
	for _, name := range []string{"first", "second", "third"} {
		if _, _, err := f.svc.CreateToken(ctx, pr, TokenRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	// As an older server wrote them: first on the second, second half a
	// second later, third 0.55 s later; third expires, is used and
	// revoked on a second.
	for _, q := range []string{
		`UPDATE auth_tokens SET created_at = '2026-11-01T12:00:00Z', expires_at = '2026-12-01T12:00:00.1Z' WHERE name = 'first'`,
		`UPDATE auth_tokens SET created_at = '2026-11-01T12:00:00.5Z' WHERE name = 'second'`,
		`UPDATE auth_tokens SET created_at = '2026-11-01T12:00:00.55Z', expires_at = '2026-12-01T12:00:00Z',
			last_used_at = '2026-11-02T08:00:00Z', revoked_at = '2026-11-03T09:00:00.123456789Z' WHERE name = 'third'`,
		`UPDATE auth_users SET created_at = '2026-11-01T11:00:00Z'`,
	} {
		if _, err := f.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	before, err := f.svc.Tokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]string{}
	for _, tok := range before {
		b, _ := json.Marshal(tok)
		wantJSON[tok.Name] = string(b)
	}
	// Migration 005 runs again on these rows.
	if _, err := f.db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE domain = 'auth' AND version = 5`); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tokenNames(t, f), " "); got != "first second third" {
		t.Fatalf("tokens listed %q after the migration, want first second third", got)
	}
	after, err := f.svc.Tokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range after {
		if b, _ := json.Marshal(tok); string(b) != wantJSON[tok.Name] {
			t.Errorf("token %s after the migration:\n %s\nbefore:\n %s", tok.Name, b, wantJSON[tok.Name])
		}
	}
	rows, err := f.db.QueryContext(ctx, `SELECT created_at, expires_at, revoked_at, last_used_at FROM auth_tokens
		UNION ALL SELECT created_at, '', '', '' FROM auth_users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ts [4]string
		if err := rows.Scan(&ts[0], &ts[1], &ts[2], &ts[3]); err != nil {
			t.Fatal(err)
		}
		for _, s := range ts {
			if s != "" && fmtTime(parseTime(s)) != s {
				t.Errorf("stored time %q after the migration, want it as %s", s, timeLayout)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
