package certs

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// memKeys is Keys in memory: versions 1..n, the newest current; sealed
// makes every call fail as a sealed vault does.
type memKeys struct {
	mu     sync.Mutex
	keys   [][]byte
	sealed bool
}

var errSealed = errors.New("the vault is sealed")

func newMemKeys() *memKeys { k := &memKeys{}; k.rotate(); return k }

func (k *memKeys) rotate() {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	k.mu.Lock()
	k.keys = append(k.keys, b)
	k.mu.Unlock()
}

func (k *memKeys) setSealed(v bool) { k.mu.Lock(); k.sealed = v; k.mu.Unlock() }

func (k *memKeys) Current(context.Context) (uint32, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sealed {
		return 0, nil, errSealed
	}
	return uint32(len(k.keys)), k.keys[len(k.keys)-1], nil
}

func (k *memKeys) Key(_ context.Context, v uint32) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sealed {
		return nil, errSealed
	}
	if v < 1 || int(v) > len(k.keys) {
		return nil, errors.New("no such key version")
	}
	return k.keys[v-1], nil
}

// openDB opens a migrated state store at path (SQLite, or PostgreSQL with
// PHOENIX_TEST_DATABASE=postgres; the same path reopens the same data).
func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, path)
	if err := db.Migrate(context.Background(), Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

func tempDB(t *testing.T) (*store.DB, string) {
	path := filepath.Join(t.TempDir(), "state.db")
	return openDB(t, path), path
}
