package certs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/phoenixvc/phoenix/internal/store"
)

// Storage is certmagic.Storage on the state store: keys are rows of
// certs_values, values sealed under Keys; locks are rows of certs_locks.
// Every Storage on one database (in one server or several) sees the same
// keys and the same locks. Safe for concurrent use.
type Storage struct {
	db    *store.DB
	keys  Keys
	now   func() time.Time
	lease time.Duration // a lock not refreshed for this long is free

	mu   sync.Mutex
	held map[string]*heldLock // locks this Storage holds, by name
}

var (
	_ certmagic.Storage          = (*Storage)(nil)
	_ certmagic.TryLocker        = (*Storage)(nil)
	_ certmagic.LockLeaseRenewer = (*Storage)(nil)
)

// NewStorage returns a Storage on db (migrated with Migrations) that seals
// values with keys.
func NewStorage(db *store.DB, keys Keys) *Storage {
	return &Storage{db: db, keys: keys, now: time.Now, lease: time.Minute, held: map[string]*heldLock{}}
}

func (s *Storage) millis() int64 { return s.now().UnixMilli() }

// String names the storage in certmagic's logs.
func (s *Storage) String() string { return "phoenix state store (certs_values)" }

// Store implements certmagic.Storage: it seals value and writes it at key.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	sealed, err := seal(ctx, s.keys, key, value)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO certs_values (key, value, size, modified) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET value = $2, size = $3, modified = $4`, key, sealed, len(value), s.millis())
	if err != nil {
		return fmt.Errorf("certs: store %s: %w", key, err)
	}
	return nil
}

// Load implements certmagic.Storage; a missing key is fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM certs_values WHERE key = $1`, key).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("certs: load %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("certs: load %s: %w", key, err)
	}
	v, err := open(ctx, s.keys, key, sealed)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", key, err)
	}
	return v, nil
}

// Delete implements certmagic.Storage: it removes key and every key under
// it (key as a directory). A missing key is not an error.
func (s *Storage) Delete(ctx context.Context, key string) error {
	lo, hi := under(key)
	_, err := s.db.ExecContext(ctx, `DELETE FROM certs_values WHERE key = $1 OR (key >= $2 AND key < $3)`, key, lo, hi)
	if err != nil {
		return fmt.Errorf("certs: delete %s: %w", key, err)
	}
	return nil
}

// Exists implements certmagic.Storage: key is a value or a directory.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Stat implements certmagic.Storage.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	var size, modified int64
	err := s.db.QueryRowContext(ctx, `SELECT size, modified FROM certs_values WHERE key = $1`, key).Scan(&size, &modified)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Size: size, Modified: time.UnixMilli(modified), IsTerminal: true}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return certmagic.KeyInfo{}, fmt.Errorf("certs: stat %s: %w", key, err)
	}
	lo, hi := under(key)
	var newest sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT MAX(modified) FROM certs_values WHERE key >= $1 AND key < $2`, lo, hi).Scan(&newest)
	if err != nil {
		return certmagic.KeyInfo{}, fmt.Errorf("certs: stat %s: %w", key, err)
	}
	if !newest.Valid {
		return certmagic.KeyInfo{}, fmt.Errorf("certs: stat %s: %w", key, fs.ErrNotExist)
	}
	return certmagic.KeyInfo{Key: key, Modified: time.UnixMilli(newest.Int64)}, nil
}

// List implements certmagic.Storage: the keys under dir, values and
// directories alike; recursive lists every level, else only dir's own
// entries. A dir with nothing under it is fs.ErrNotExist.
func (s *Storage) List(ctx context.Context, dir string, recursive bool) ([]string, error) {
	lo, hi := under(dir)
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM certs_values WHERE key >= $1 AND key < $2 ORDER BY key`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("certs: list %s: %w", dir, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, err
		}
		for _, k := range entries(lo, key, recursive) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certs: list %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("certs: list %s: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(out)
	return out, nil
}

// entries returns what a listing of the directory prefix (with its
// trailing slash, "" for the root) shows of key: its first component under
// prefix, or with recursive every directory on the way and key itself.
func entries(prefix, key string, recursive bool) []string {
	rest := strings.TrimPrefix(key, prefix)
	if !recursive {
		first, _, _ := strings.Cut(rest, "/")
		return []string{prefix + first}
	}
	var out []string
	for i := range len(rest) {
		if rest[i] == '/' {
			out = append(out, prefix+rest[:i])
		}
	}
	return append(out, key)
}

// under returns the range [lo, hi) of keys below dir: "dir/" up to "dir0"
// ('0' follows '/' in byte order, which both engines compare in).
func under(dir string) (lo, hi string) {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return "", "\U0010FFFF"
	}
	return dir + "/", dir + "0"
}

// checkKey refuses keys certmagic never makes: empty, with a leading or
// trailing slash, or with an empty component.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
		return fmt.Errorf("certs: storage key %q is not a slash-separated path", key)
	}
	return nil
}
