package certs

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
)

func storeAll(t *testing.T, s *Storage, kv map[string]string) {
	t.Helper()
	for k, v := range kv {
		if err := s.Store(context.Background(), k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStorageStoreLoadOverwrite(t *testing.T) {
	db, _ := tempDB(t)
	s := NewStorage(db, newMemKeys())
	ctx := context.Background()
	if _, err := s.Load(ctx, "a/b.crt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("load of a missing key: %v, want fs.ErrNotExist", err)
	}
	storeAll(t, s, map[string]string{"a/b.crt": "one"})
	storeAll(t, s, map[string]string{"a/b.crt": "two!"})
	got, err := s.Load(ctx, "a/b.crt")
	if err != nil || string(got) != "two!" {
		t.Fatalf("load = %q, %v; want the second value", got, err)
	}
	info, err := s.Stat(ctx, "a/b.crt")
	if err != nil || !info.IsTerminal || info.Size != 4 || info.Key != "a/b.crt" || info.Modified.IsZero() {
		t.Fatalf("stat = %+v, %v; want a file of 4 bytes", info, err)
	}
	for _, bad := range []string{"", "/a", "a/", "a//b"} {
		if err := s.Store(ctx, bad, []byte("x")); err == nil {
			t.Errorf("store at %q: no error", bad)
		}
	}
}

func TestStorageDirectories(t *testing.T) {
	db, _ := tempDB(t)
	s := NewStorage(db, newMemKeys())
	ctx := context.Background()
	storeAll(t, s, map[string]string{
		"certificates/ca/shop.test/shop.test.crt": "c", "certificates/ca/shop.test/shop.test.key": "k",
		"certificates/ca/www.test/www.test.crt": "c", "certificates/cab/x.crt": "other dir", "certificatesx": "sibling",
	})
	list := func(dir string, rec bool) []string {
		t.Helper()
		got, err := s.List(ctx, dir, rec)
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		return got
	}
	if got := list("certificates/ca", false); !slices.Equal([]string{"certificates/ca/shop.test", "certificates/ca/www.test"}, got) {
		t.Errorf("non-recursive list = %q, want %q", got, []string{"certificates/ca/shop.test", "certificates/ca/www.test"})
	}
	want := []string{"certificates/ca/shop.test", "certificates/ca/shop.test/shop.test.crt", "certificates/ca/shop.test/shop.test.key",
		"certificates/ca/www.test", "certificates/ca/www.test/www.test.crt"}
	if got := list("certificates/ca", true); !slices.Equal(want, got) {
		t.Errorf("recursive list = %q, want %q", got, want)
	}
	if got := list("", false); !slices.Equal([]string{"certificates", "certificatesx"}, got) {
		t.Errorf("root list = %q, want %q", got, []string{"certificates", "certificatesx"})
	}
	if _, err := s.List(ctx, "certificates/none", true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("list of a missing dir: %v, want fs.ErrNotExist", err)
	}
	if info, err := s.Stat(ctx, "certificates/ca"); err != nil || info.IsTerminal || info.Modified.IsZero() {
		t.Errorf("stat of a dir = %+v, %v; want a non-terminal key", info, err)
	}
	if !s.Exists(ctx, "certificates/ca") || !s.Exists(ctx, "certificatesx") || s.Exists(ctx, "certificates/c") {
		t.Error("Exists: want true for a dir and a file, false for a name that only prefixes a component")
	}
	if err := s.Delete(ctx, "certificates/ca"); err != nil {
		t.Fatal(err)
	}
	if got := list("", true); !slices.Equal([]string{"certificates", "certificates/cab", "certificates/cab/x.crt", "certificatesx"}, got) {
		t.Errorf("after deleting a dir = %q, want %q", got, []string{"certificates", "certificates/cab", "certificates/cab/x.crt", "certificatesx"})
	}
	if err := s.Delete(ctx, "certificates/ca"); err != nil {
		t.Errorf("deleting a missing key: %v, want nil", err)
	}
	if _, err := s.Stat(ctx, "certificates/ca"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat after delete: %v, want fs.ErrNotExist", err)
	}
}

const pemKey = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBnotARealKeyButPEMShaped0123456789abcdefoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n"

// TestStorageSealsValues: no value is in the database in plaintext (the
// SQLite file and its WAL are read byte for byte), a value moved to
// another key does not open, and a sealed vault stores nothing.
func TestStorageSealsValues(t *testing.T) {
	db, path := tempDB(t)
	keys := newMemKeys()
	s := NewStorage(db, keys)
	ctx := context.Background()
	storeAll(t, s, map[string]string{"certificates/ca/shop.test/shop.test.key": pemKey, "other.key": "x"})
	rows, err := db.QueryContext(ctx, `SELECT key, value FROM certs_values`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(v, []byte("PRIVATE KEY")) || bytes.Contains(v, []byte("MHcCAQEE")) {
			t.Errorf("row %s holds the key in plaintext", k)
		}
	}
	rows.Close()
	if db.Dialect == store.SQLite {
		for _, f := range []string{path, path + "-wal"} {
			raw, _ := os.ReadFile(f)
			if bytes.Contains(raw, []byte("PRIVATE KEY")) {
				t.Errorf("%s holds a PEM private key", f)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE certs_values SET value = (SELECT value FROM certs_values WHERE key = 'other.key') WHERE key <> 'other.key'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "certificates/ca/shop.test/shop.test.key"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a value moved to another key opened: %v", err)
	}
	keys.setSealed(true)
	if err := s.Store(ctx, "new.key", []byte(pemKey)); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("store with a sealed vault: %v, want an error saying so", err)
	}
	keys.setSealed(false)
	if s.Exists(ctx, "new.key") {
		t.Error("a failed store left a row")
	}
}

// TestStorageKeyVersions: a value sealed before the data key changed
// still opens, and new values use the new key.
func TestStorageKeyVersions(t *testing.T) {
	db, _ := tempDB(t)
	keys := newMemKeys()
	s := NewStorage(db, keys)
	ctx := context.Background()
	storeAll(t, s, map[string]string{"old": "sealed under v1"})
	keys.rotate()
	storeAll(t, s, map[string]string{"new": "sealed under v2"})
	for k, want := range map[string]string{"old": "sealed under v1", "new": "sealed under v2"} {
		if got, err := s.Load(ctx, k); err != nil || string(got) != want {
			t.Errorf("load %s = %q, %v", k, got, err)
		}
	}
	var versions []byte
	for _, k := range []string{"old", "new"} {
		var v []byte
		if err := db.QueryRowContext(ctx, `SELECT value FROM certs_values WHERE key = $1`, k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v[4])
	}
	if !slices.Equal(versions, []byte{1, 2}) {
		t.Errorf("key versions in the rows = %v, want [1 2]", versions)
	}
}
