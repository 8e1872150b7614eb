package vault

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// testKDF keeps argon2id cheap in tests; production uses DefaultKDF.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var admin = Subject{Actor: "alice", Roles: []string{"admin"}}

// server is the server itself, using its own keys (SystemKeys).
var server = Subject{Actor: "phoenix:test", Roles: []string{"admin"}, System: true}

const testMaster = "correct horse battery staple"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder is an Auditor that keeps events; fail makes it refuse.
type recorder struct {
	mu     sync.Mutex
	events []AuditEvent
	fail   error
}

func (r *recorder) Audit(_ context.Context, e AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) all() []AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]AuditEvent(nil), r.events...)
}

func (r *recorder) has(action, outcome string) bool {
	for _, e := range r.all() {
		if e.Action == action && e.Outcome == outcome {
			return true
		}
	}
	return false
}

// txRecorder also implements TxAuditor, writing into its own table in the
// vault's transaction.
type txRecorder struct{ recorder }

func (r *txRecorder) AuditTx(ctx context.Context, tx *sql.Tx, e AuditEvent) error {
	if r.fail != nil {
		return r.fail
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS test_audit (action TEXT, target TEXT)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO test_audit VALUES ($1, $2)`, e.Action, e.Target); err != nil {
		return err
	}
	return r.Audit(ctx, e)
}

type env struct {
	dir   string
	db    *store.DB
	v     *Vault
	clock *clock
	audit *recorder
	logs  *bytes.Buffer
}

func openDB(t testing.TB, dir string) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(context.Background(), Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

// newEnv returns an initialized, unsealed vault over a fresh data dir.
func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		audit: &recorder{}, logs: &bytes.Buffer{}}
	e.db = openDB(t, e.dir)
	t.Cleanup(func() { e.db.Close() })
	e.v = e.open(t, mod...)
	if err := e.v.Init(context.Background(), SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	return e
}

// open returns another (sealed) Vault over the same database.
func (e *env) open(t testing.TB, mod ...func(*Options)) *Vault {
	t.Helper()
	o := Options{DB: e.db, Now: e.clock.Now, Auditor: e.audit, KDF: testKDF,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mod {
		m(&o)
	}
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) set(t *testing.T, name, value string) VersionInfo {
	t.Helper()
	vi, err := e.v.Set(context.Background(), admin, name, SecretString(value), SetOptions{})
	if err != nil {
		t.Fatalf("Set(%s): %v", name, err)
	}
	return vi
}

func (e *env) get(t *testing.T, name string, version int) string {
	t.Helper()
	s, _, err := e.v.Get(context.Background(), admin, name, version)
	if err != nil {
		t.Fatalf("Get(%s@%d): %v", name, version, err)
	}
	return s.Reveal()
}
