package pipeline

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

type auditLog struct {
	mu     sync.Mutex
	events []AuditEvent
}

func (a *auditLog) hook(_ context.Context, _ *sql.Tx, e AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *auditLog) count(action string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events {
		if e.Action == action {
			n++
		}
	}
	return n
}

func (a *auditLog) has(action string) bool { return a.count(action) > 0 }

// details are the details of the events of action, in order.
func (a *auditLog) details(action string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		if e.Action == action {
			out = append(out, e.Detail)
		}
	}
	return out
}

type fixture struct {
	t     *testing.T
	dir   string
	db    *store.DB
	svc   *Service
	audit *auditLog
}

func openDB(t *testing.T, dir string, sets ...store.Migrations) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(context.Background(), append([]store.Migrations{Migrations()}, sets...)...); err != nil {
		t.Fatal(err)
	}
	return db
}

// newFixture starts a Service on a fresh database; edit opts before start.
func newFixture(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, audit: &auditLog{}}
	f.db = openDB(t, dir)
	f.svc = f.start(edit)
	return f
}

func (f *fixture) start(edit func(*Options)) *Service {
	f.t.Helper()
	opts := Options{DB: f.db, LogDir: filepath.Join(f.dir, "runs"), Audit: f.audit.hook, Backoff: time.Millisecond,
		Grace: 100 * time.Millisecond, Deps: action.Deps{Secrets: action.EnvSecrets{Prefix: "PHX_TEST_"}}}
	if edit != nil {
		edit(&opts)
	}
	svc, err := New(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { svc.Stop(context.Background()) })
	return svc
}

// project writes a project folder with phoenix.yaml and returns it.
func (f *fixture) project(yaml string) string {
	f.t.Helper()
	dir, err := os.MkdirTemp(f.dir, "project-")
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return dir
}

func (f *fixture) release(dir, version string, envs ...string) *Run {
	f.t.Helper()
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: version, Environments: envs, Actor: "alice"})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// wait follows the run's logs until it has finished and returns it.
func (f *fixture) wait(id int64) *RunDetail {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := f.svc.Logs(ctx, id, LogOptions{Follow: true}, io.Discard); err != nil {
		f.t.Fatalf("run %d: %v", id, err)
	}
	d, err := f.svc.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// waitStatus waits until the run reaches status (a non-final one too).
func (f *fixture) waitStatus(id int64, status string) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		wake := f.svc.hub.wait(id)
		d, err := f.svc.Get(context.Background(), id)
		if err != nil {
			f.t.Fatal(err)
		}
		if d.Status == status {
			return
		}
		if Finished(d.Status) || time.Now().After(deadline) {
			f.t.Fatalf("run %d is %s (%s), want %s", id, d.Status, d.Message, status)
		}
		select {
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

func stepOf(d *RunDetail, id string) Step {
	for _, s := range d.Steps {
		if s.ID == id {
			return s
		}
	}
	return Step{ID: id, Status: "missing"}
}

func (f *fixture) log(id int64, step string) string {
	f.t.Helper()
	var b stringsBuilder
	if err := f.svc.Logs(context.Background(), id, LogOptions{Step: step}, &b); err != nil {
		f.t.Fatal(err)
	}
	return b.String()
}

type stringsBuilder struct {
	mu sync.Mutex
	b  []byte
}

func (s *stringsBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *stringsBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// deployService is the real deployments domain on a database and a blob
// store in dir, signing with a new key.
func deployService(t *testing.T, dir string) (*store.DB, *local.Store, *deploy.Service) {
	t.Helper()
	db := openDB(t, dir, deploy.Migrations())
	blobs, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := sign.GenerateKey(nil)
	return db, blobs, deploy.New(deploy.Options{DB: db, Blobs: blobs, Key: key})
}
