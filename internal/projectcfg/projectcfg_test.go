package projectcfg

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

var ctx = context.Background()

// newStore opens a migrated store in a fresh database (PostgreSQL with
// PHOENIX_TEST_DATABASE=postgres) and collects its audit events.
func newStore(t *testing.T) (*Store, *[]Event) {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	var events []Event
	s := New(Options{DB: db, Audit: func(_ context.Context, _ *sql.Tx, e Event) error {
		events = append(events, e)
		return nil
	}})
	return s, &events
}

// TestSaveKeepsTheNewestAndAuditsChanges: the newest configuration wins
// whichever way it came, each change is audited and counted in the
// revision, the same content again writes nothing, and a project without
// one has none. Runs on PostgreSQL with PHOENIX_TEST_DATABASE=postgres.
func TestSaveKeepsTheNewestAndAuditsChanges(t *testing.T) {
	s, events := newStore(t)
	if e, err := s.Get(ctx, "shop"); err != nil || e != nil {
		t.Fatalf("nothing stored: %+v, %v", e, err)
	}
	rel := Entry{Project: "shop", Kind: Release, Release: "v1.2.0", Run: 17, Actor: "alice", YAML: []byte("project: {name: shop}\n")}
	dep := Entry{Project: "shop", Kind: Deploy, Actor: "bob", YAML: []byte("project: {name: shop}\n# v2\n")}
	for i, step := range []struct {
		e       Entry
		changed bool
		from    string
		rev     int64
	}{
		{rel, true, "release v1.2.0 (run 17) by alice", 1},
		{dep, true, "phoenix deploy by bob", 2},
		{Entry{Project: "shop", Kind: Deploy, Actor: "carol", YAML: dep.YAML}, false, "phoenix deploy by bob", 2},
		{rel, true, "release v1.2.0 (run 17) by alice", 3},
	} {
		got, changed, err := s.Save(ctx, step.e)
		if err != nil || changed != step.changed || got.From() != step.from || got.Revision != step.rev {
			t.Fatalf("save #%d: %+v changed %v err %v; want changed %v from %q revision %d", i, got, changed, err, step.changed, step.from, step.rev)
		}
		stored, err := s.Get(ctx, "shop")
		if err != nil || stored.From() != step.from || stored.Revision != step.rev || stored.Digest != got.Digest ||
			time.Since(stored.At) > time.Minute {
			t.Fatalf("after save #%d: %+v, %v", i, stored, err)
		}
	}
	if stored, _ := s.Get(ctx, "shop"); string(stored.YAML) != string(rel.YAML) {
		t.Fatalf("stored %q, want the newest, %q", stored.YAML, rel.YAML)
	}
	if len(*events) != 3 || (*events)[1].Action != "project.config" || (*events)[1].Actor != "bob" || (*events)[1].Project != "shop" {
		t.Fatalf("audit events %+v", *events)
	}
	revs, err := s.Revisions(ctx)
	if err != nil || len(revs) != 1 || revs["shop"] != 3 {
		t.Fatalf("revisions %v, %v", revs, err)
	}
}

// TestAFailedAuditStoresNothing: the change and its audit record are one
// transaction.
func TestAFailedAuditStoresNothing(t *testing.T) {
	s, _ := newStore(t)
	s.opts.Audit = func(context.Context, *sql.Tx, Event) error { return errors.New("audit log full") }
	if _, _, err := s.Save(ctx, Entry{Project: "shop", Kind: Deploy, YAML: []byte("x")}); err == nil {
		t.Fatal("saved without its audit record")
	}
	if e, err := s.Get(ctx, "shop"); err != nil || e != nil {
		t.Fatalf("stored %+v, %v", e, err)
	}
}

// TestARunFolderEntry: a release whose file is kept in its run's folder
// is stored by the folder, which its digest covers.
func TestARunFolderEntry(t *testing.T) {
	s, _ := newStore(t)
	a, _, err := s.Save(ctx, Entry{Project: "shop", Kind: Release, Release: "v1", Dir: "/srv/a"})
	if err != nil {
		t.Fatal(err)
	}
	b, changed, err := s.Save(ctx, Entry{Project: "shop", Kind: Release, Release: "v2", Dir: "/srv/b"})
	if err != nil || !changed || a.Digest == b.Digest {
		t.Fatalf("second folder: changed %v, digests %s %s, %v", changed, a.Digest, b.Digest, err)
	}
	if got, _ := s.Get(ctx, "shop"); got.Dir != "/srv/b" || len(got.YAML) != 0 {
		t.Fatalf("stored %+v", got)
	}
}
