package deploy

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// clockAt makes f's service read the time from *now.
func clockAt(f *fixture, now *time.Time) { f.svc.opts.Now = func() time.Time { return *now } }

// liveSinceEverywhere returns the active deployment of site/production
// and since when it is live as each read of the service tells it:
// Deployments, Environment, Active, Projects and Live, failing the test
// when they disagree.
func liveSinceEverywhere(t *testing.T, s *Service) (Deployment, time.Time) {
	t.Helper()
	hist, err := s.Deployments(ctx, "site", "production", 0)
	if err != nil {
		t.Fatal(err)
	}
	var active Deployment
	for _, d := range hist {
		switch {
		case d.Active:
			active = d
		case d.LiveSince != nil:
			t.Errorf("deployment %d is not active but live since %v", d.ID, d.LiveSince)
		}
	}
	if active.LiveSince == nil {
		t.Fatalf("the active deployment has no live since: %+v", active)
	}
	want := *active.LiveSince
	got := map[string]*time.Time{}
	env, err := s.Environment(ctx, "site", "production")
	if err != nil {
		t.Fatal(err)
	}
	got["Environment"] = env.LiveSince
	rs, err := s.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Environment == "production" {
			got["Active"] = r.Deployment.LiveSince
		}
	}
	ps, err := s.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ps[0].Environments {
		if e.Name == "production" {
			got["Projects"] = e.LiveSince
		}
	}
	live, err := s.Live(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range live {
		if d.Environment == "production" {
			got["Live"] = d.LiveSince
		}
	}
	for what, at := range got {
		if at == nil || !at.Equal(want) {
			t.Errorf("%s: live since %v, want %v (as the history says)", what, at, want)
		}
	}
	return active, want
}

// TestRollbackSetsLiveSince: deploy A, deploy B, roll back to A later:
// A is live since the rollback, while its creation time stays its first
// deploy; a deploy is live since its creation; an automatic rollback
// (Revert) counts as an activation too.
func TestRollbackSetsLiveSince(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clockAt(f, &now)
	a, _ := f.deploy(t, "production", "a", map[string]string{"index.html": "a"})
	if a.LiveSince == nil || !a.LiveSince.Equal(now) || !a.CreatedAt.Equal(now) {
		t.Fatalf("a new deployment: created %v, live since %v; want both %v", a.CreatedAt, a.LiveSince, now)
	}
	now = now.Add(24 * time.Hour)
	b, _ := f.deploy(t, "production", "b", map[string]string{"index.html": "b"})
	if d, at := liveSinceEverywhere(t, f.svc); d.ID != b.ID || !at.Equal(now) {
		t.Fatalf("after deploying b: deployment %d live since %v, want %d since %v", d.ID, at, b.ID, now)
	}

	created := a.CreatedAt
	now = now.Add(72 * time.Hour)
	back, err := f.svc.Rollback(ctx, "site", "production", a.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if back.LiveSince == nil || !back.LiveSince.Equal(now) {
		t.Fatalf("the rollback answers live since %v, want %v", back.LiveSince, now)
	}
	d, at := liveSinceEverywhere(t, f.svc)
	if d.ID != a.ID || !at.Equal(now) || !d.CreatedAt.Equal(created) {
		t.Fatalf("after the rollback: deployment %d created %v live since %v; want %d created %v, live since the rollback %v",
			d.ID, d.CreatedAt, at, a.ID, created, now)
	}

	now = now.Add(time.Hour)
	c, _ := f.deploy(t, "production", "c", map[string]string{"index.html": "c"})
	now = now.Add(time.Hour)
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: c.ID, Reason: "health-check/production"}); err != nil {
		t.Fatal(err)
	}
	if d, at := liveSinceEverywhere(t, f.svc); d.ID != b.ID || !at.Equal(now) {
		t.Fatalf("after the automatic rollback: deployment %d live since %v, want %d since %v", d.ID, at, b.ID, now)
	}
}

// TestLiveSinceMigrationBackfills: environments deployed before the
// live_since column take it from their newest activation of the active
// deployment (a rollback to it), and an environment without such an
// event from the deployment's creation.
func TestLiveSinceMigrationBackfills(t *testing.T) {
	db := upgraded(t, 6,
		`INSERT INTO projects (name, created_at) VALUES ('site', '2026-11-01T00:00:00Z')`,
		`INSERT INTO artifacts (digest, project, manifest, signature, key_id, files, bytes, created_at)
			VALUES ('sha256:aa', 'site', '', '', 'k', 1, 1, '2026-11-01T00:00:00Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('site', 'production', '2026-11-01T00:00:00Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('site', 'staging', '2026-11-01T00:00:00Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('site', 'idle', '2026-11-01T00:00:00Z')`,
		`INSERT INTO deployments (id, project, environment, artifact, created_at) VALUES
			(1, 'site', 'production', 'sha256:aa', '2026-11-02T00:00:00Z'),
			(2, 'site', 'production', 'sha256:aa', '2026-11-03T00:00:00Z'),
			(3, 'site', 'staging', 'sha256:aa', '2026-11-04T00:00:00Z')`,
		`INSERT INTO deploy_events (project, environment, action, deployment, at) VALUES
			('site', 'production', 'deploy', 1, '2026-11-02T00:00:00Z'),
			('site', 'production', 'deploy', 2, '2026-11-03T00:00:00Z'),
			('site', 'production', 'rollback', 1, '2026-11-05T10:00:00Z')`,
		`UPDATE environments SET active_id = 1 WHERE name = 'production'`,
		`UPDATE environments SET active_id = 3 WHERE name = 'staging'`)
	envs, err := New(Options{DB: db}).Environments(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"idle": "", "production": "2026-11-05T10:00:00Z", "staging": "2026-11-04T00:00:00Z"}
	for _, e := range envs {
		got := ""
		if e.LiveSince != nil {
			got = e.LiveSince.Format(time.RFC3339)
		}
		if got != want[e.Name] {
			t.Errorf("%s: live since %q after the migration, want %q", e.Name, got, want[e.Name])
		}
	}
}

// upgraded is a database of the domain's schema up to version n-1 in
// which an older binary wrote rows (the statements), then migrated by
// this one.
func upgraded(t *testing.T, n int, rows ...string) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	if err := db.Migrate(ctx, migrationsBefore(t, n)); err != nil {
		t.Fatal(err)
	}
	for _, q := range rows {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

// migrationsBefore is the domain's schema up to version n-1.
func migrationsBefore(t *testing.T, n int) store.Migrations {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	for _, name := range names {
		if filepath.Base(name) < fmt.Sprintf("%03d", n) {
			b, _ := migrationFiles.ReadFile(name)
			old[name] = &fstest.MapFile{Data: b}
		}
	}
	return store.EmbeddedMigrations("deploy", old)
}
