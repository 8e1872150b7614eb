package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// marker returns a unique, recognizable secret value.
func marker(t *testing.T, label string) string {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	return "SECRET-" + label + "-" + hex.EncodeToString(b)
}

// encodings are the forms a leaked value could take on disk.
func encodings(v string) map[string][]byte {
	b := []byte(v)
	return map[string][]byte{
		"plaintext": b,
		"base64":    []byte(base64.StdEncoding.EncodeToString(b)),
		"base64raw": []byte(base64.RawStdEncoding.EncodeToString(b)),
		"base64url": []byte(base64.RawURLEncoding.EncodeToString(b)),
		"hex":       []byte(hex.EncodeToString(b)),
	}
}

// leaks names the encodings of values found in data.
func leaks(data []byte, values []string) []string {
	var found []string
	for _, v := range values {
		for enc, needle := range encodings(v) {
			if bytes.Contains(data, needle) {
				found = append(found, enc)
			}
		}
	}
	return found
}

// assertAbsent fails when any value appears in any form in data.
func assertAbsent(t *testing.T, where string, data []byte, values []string) {
	t.Helper()
	for _, enc := range leaks(data, values) {
		t.Errorf("%s contains the %s of a secret value", where, enc)
	}
}

// TestScanFindsAPlantedLeak shows the data-dir scan would catch a value
// stored unencrypted, so its silence elsewhere means something.
func TestScanFindsAPlantedLeak(t *testing.T) {
	e := newEnv(t)
	v := marker(t, "PLANTED")
	e.db.Exec(`CREATE TABLE leak (v TEXT)`)
	e.db.Exec(`INSERT INTO leak VALUES ($1)`, base64.StdEncoding.EncodeToString([]byte(v)))
	if got := leaks(dbBytes(t, e), []string{v}); len(got) == 0 {
		t.Fatal("the scan missed a base64 value stored in the database")
	}
}

// dbBytes is everything the database holds: the SQLite file and its WAL,
// or on PostgreSQL every row of every table as text (bytes as hex).
func dbBytes(t *testing.T, e *env) []byte {
	t.Helper()
	var all []byte
	if e.db.Dialect != store.Postgres {
		for _, f := range []string{"state.db", "state.db-wal"} {
			b, _ := os.ReadFile(filepath.Join(e.dir, f))
			all = append(all, b...)
		}
		return all
	}
	ctx := context.Background()
	rows, err := e.db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := e.db.QueryContext(ctx, `SELECT CAST(r AS TEXT) FROM `+table+` r`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			rows.Scan(&row)
			all = append(all, row...)
		}
		rows.Close()
	}
	return all
}

// scanDir reads every file of dir and returns the names scanned.
func scanDir(t *testing.T, dir string, values []string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		names = append(names, fmt.Sprintf("%s(%d)", d.Name(), len(b)))
		assertAbsent(t, p, b, values)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestNoPlaintextAnywhere is the proof of secrecy: after secrets are set,
// imported, rotated, read, listed, deleted and recovered, no value (nor
// its base64 or hex) is in the data dir (state.db, -wal, -shm), the logs,
// the audit events, any error or any JSON listing.
func TestNoPlaintextAnywhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var values []string
	for _, name := range []string{"AZURE_PROD_CREDENTIALS", "PROD_GITHUB_TOKEN", "PROD_TEAMS_WEBHOOK_URL"} {
		v := marker(t, name)
		values = append(values, v)
		e.set(t, name, v)
		e.set(t, name, v+"-v2")
		values = append(values, v+"-v2")
	}
	imp := marker(t, "IMPORTED")
	values = append(values, imp)
	entries, err := ParseDotenv(strings.NewReader("API_KEYS=\"" + imp + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Import(ctx, admin, entries, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	pol := &RotationPolicy{EveryDays: 30, Generator: GeneratorSpec{Type: "random", Length: 40}}
	if err := e.v.SetRotation(ctx, admin, "API_KEYS", pol); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Rotate(ctx, admin, "API_KEYS"); err != nil {
		t.Fatal(err)
	}
	values = append(values, e.get(t, "API_KEYS", 0))
	cert, _ := testCertPEM(t, 30)
	if _, err := e.v.SetCertificate(ctx, admin, "SSL_CERTIFICATE", NewSecret(cert), SetOptions{}); err != nil {
		t.Fatal(err)
	}
	values = append(values, pemKeyBody(t, cert))
	if _, err := e.v.Delete(ctx, admin, "PROD_GITHUB_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Recover(ctx, admin, "PROD_GITHUB_TOKEN"); err != nil {
		t.Fatal(err)
	}

	var errs []error
	_, _, err = e.v.Get(ctx, admin, "PROD_GITHUB_TOKEN", 7)
	errs = append(errs, err)
	_, err = e.v.Set(ctx, Subject{Actor: "mallory"}, "PROD_GITHUB_TOKEN", SecretString(values[0]), SetOptions{})
	errs = append(errs, err)
	_, _, err = e.v.Get(ctx, Subject{Actor: "ci", Pipeline: "release", Environment: "staging"}, "PROD_GITHUB_TOKEN", 0)
	errs = append(errs, err)
	var listings bytes.Buffer
	list, err := e.v.List(ctx, admin, ListOptions{})
	errs = append(errs, err)
	hist, err := e.v.History(ctx, admin, "AZURE_PROD_CREDENTIALS")
	errs = append(errs, err)
	in, err := e.v.Describe(ctx, admin, "SSL_CERTIFICATE")
	errs = append(errs, err)
	s, vi, err := e.v.Get(ctx, admin, "PROD_TEAMS_WEBHOOK_URL", 0)
	errs = append(errs, err)
	json.NewEncoder(&listings).Encode([]any{list, hist, in, vi, s, map[string]Secret{"v": s}})
	fmt.Fprintf(&listings, "%v %+v %#v %s %q %x %X", s, s, s, s, s, s, s)

	t.Run("data dir", func(t *testing.T) {
		if e.db.Dialect == store.Postgres {
			assertAbsent(t, "the PostgreSQL tables", dbBytes(t, e), values)
		}
		scanned := scanDir(t, e.dir, values)
		if e.db.Dialect == store.Postgres {
			return // no database files in the data dir
		}
		if !strings.Contains(strings.Join(scanned, " "), "state.db-wal") {
			t.Fatalf("the WAL file was not among the files scanned: %v", scanned)
		}
		t.Logf("scanned %v", scanned)
	})
	t.Run("logs", func(t *testing.T) {
		if e.logs.Len() == 0 {
			t.Fatal("no logs were written; the check would prove nothing")
		}
		assertAbsent(t, "logs", e.logs.Bytes(), values)
	})
	t.Run("audit", func(t *testing.T) {
		b, _ := json.Marshal(e.audit.all())
		assertAbsent(t, "audit events", b, values)
		if !e.audit.has("secret.read", OutcomeOK) || !e.audit.has("secret.write", OutcomeDenied) || !e.audit.has("secret.read", OutcomeDenied) {
			t.Errorf("reads, writes and denials are not all audited: %+v", e.audit.all())
		}
	})
	t.Run("errors", func(t *testing.T) {
		var msgs []string
		for _, err := range errs[:3] {
			if err == nil {
				t.Fatal("an expected error did not happen")
			}
			msgs = append(msgs, err.Error(), usererr.HintOf(err), fmt.Sprintf("%+v", err))
		}
		assertAbsent(t, "errors", []byte(strings.Join(msgs, "\n")), values)
	})
	t.Run("listings", func(t *testing.T) {
		if !strings.Contains(listings.String(), "AZURE_PROD_CREDENTIALS") {
			t.Fatal("listing is empty; the check would prove nothing")
		}
		assertAbsent(t, "JSON listings", listings.Bytes(), values)
	})
	t.Run("data dir after close", func(t *testing.T) {
		e.db.Close() // checkpoints the WAL into state.db
		scanDir(t, e.dir, values)
	})
}

// dumpVault returns every vault row as text, to compare before and after.
func dumpVault(t *testing.T, e *env) string {
	t.Helper()
	var out strings.Builder
	for _, q := range []string{`SELECT * FROM vault_meta`, `SELECT * FROM vault_secrets ORDER BY name`,
		`SELECT * FROM vault_versions ORDER BY name, version`} {
		rows, err := e.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			fmt.Fprintf(&out, "%v\n", vals)
		}
		rows.Close()
	}
	return out.String()
}

func TestWrongMasterKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "A", "alpha")
	e.set(t, "B", "beta")
	before := dumpVault(t, e)
	for name, v := range map[string]*Vault{"sealed vault": e.open(t), "unsealed vault": e.v} {
		t.Run(name, func(t *testing.T) {
			wasSealed := v.Sealed()
			err := v.Unseal(ctx, SecretString("not the master key at all"))
			if !errors.Is(err, ErrWrongKey) || usererr.KindOf(err) != usererr.Invalid {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), "wrong master key") || !strings.Contains(err.Error(), "nothing was decrypted or changed") {
				t.Errorf("message %q is not clear", err)
			}
			if v.Sealed() != wasSealed {
				t.Fatal("a wrong key changed the seal state")
			}
			_, _, err = v.Get(ctx, admin, "A", 0)
			if wasSealed && !errors.Is(err, ErrSealed) {
				t.Fatalf("read after a wrong key: %v", err)
			}
			if !wasSealed && err != nil {
				t.Fatalf("the right key was lost after a wrong one: %v", err)
			}
		})
	}
	if after := dumpVault(t, e); after != before {
		t.Fatal("a wrong master key changed the stored vault")
	}
	if !e.audit.has("vault.unseal", OutcomeFailed) {
		t.Fatal("failed unseal not audited")
	}
}

func TestCorruptionIsDetectedPerSecret(t *testing.T) {
	flip := func(col string) func(t *testing.T, e *env) {
		return func(t *testing.T, e *env) {
			var b []byte
			e.db.QueryRow(`SELECT ` + col + ` FROM vault_versions WHERE name = 'B' AND version = 1`).Scan(&b)
			b[len(b)/2] ^= 0x01
			if _, err := e.db.Exec(`UPDATE vault_versions SET `+col+` = $1 WHERE name = 'B' AND version = 1`, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, e *env)
	}{
		{"ciphertext", flip("ciphertext")},
		{"nonce", flip("nonce")},
		{"wrapped key", flip("wrapped_key")},
		{"key nonce", flip("key_nonce")},
		{"truncated ciphertext", func(t *testing.T, e *env) {
			e.db.Exec(`UPDATE vault_versions SET ciphertext = substr(ciphertext, 1, 3) WHERE name = 'B'`)
		}},
		{"row copied from another secret", func(t *testing.T, e *env) {
			_, err := e.db.Exec(`UPDATE vault_versions SET (key_nonce, wrapped_key, nonce, ciphertext) =
				(SELECT key_nonce, wrapped_key, nonce, ciphertext FROM vault_versions WHERE name = 'A') WHERE name = 'B'`)
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.set(t, "A", "alpha")
			e.set(t, "B", "beta")
			tt.damage(t, e)
			_, _, err := e.v.Get(ctx, admin, "B", 0)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "secret B version 1 is corrupt") {
				t.Fatalf("err = %v", err)
			}
			if got := e.get(t, "A", 0); got != "alpha" {
				t.Fatalf("the other secret: %q", got)
			}
			if l, err := e.v.List(ctx, admin, ListOptions{}); err != nil || len(l) != 2 {
				t.Fatalf("List = %v, %v", l, err)
			}
			if !e.audit.has("secret.read", OutcomeFailed) {
				t.Fatal("the failed read is not audited")
			}
			// A new version repairs the secret.
			e.set(t, "B", "beta2")
			if got := e.get(t, "B", 0); got != "beta2" {
				t.Fatalf("after repair: %q", got)
			}
		})
	}
}

func TestAuditFailsClosed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "A", "alpha")
	e.audit.fail = errors.New("disk full")
	s, _, err := e.v.Get(ctx, admin, "A", 0)
	if err == nil || !s.IsZero() {
		t.Fatal("a read whose audit failed returned a value")
	}
	if strings.Contains(err.Error(), "alpha") {
		t.Fatal("error leaks the value")
	}
}

func TestTxAuditorCommitsWithTheChange(t *testing.T) {
	rec := &txRecorder{}
	e := newEnv(t, func(o *Options) { o.Auditor = rec })
	ctx := context.Background()
	e.set(t, "A", "alpha")
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM test_audit WHERE action = 'secret.write' AND target = 'secret/A@1'`).Scan(&n)
	if n != 1 {
		t.Fatalf("audit rows for the write = %d", n)
	}
	rec.fail = errors.New("audit table locked")
	if _, err := e.v.Set(ctx, admin, "A", SecretString("beta"), SetOptions{}); err == nil {
		t.Fatal("a write whose audit failed succeeded")
	}
	rec.fail = nil
	if got := e.get(t, "A", 0); got != "alpha" {
		t.Fatalf("a write whose audit failed was committed: latest = %q", got)
	}
}
