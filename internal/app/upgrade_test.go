package app

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// schemaOf1d4d4ec is the newest migration of each domain of the binary
// of commit 1d4d4ec (2026-11-26 11:03), before deployments recorded a
// failure (deploy 004).
var schemaOf1d4d4ec = map[string]int{"audit": 1, "auth": 3, "deploy": 3, "vault": 1, "pipeline": 4, "monitor": 2, "notify": 1,
	"replicas": 3, "certs": 1}

// migrationsAsOf is the registry as a binary had it whose domains were at
// the versions of schema (a domain not in it did not exist).
func migrationsAsOf(t *testing.T, schema map[string]int) []store.Migrations {
	t.Helper()
	var out []store.Migrations
	for _, m := range migrations() {
		old := fstest.MapFS{}
		names, err := fs.Glob(m.FS, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			var v int
			if _, err := fmt.Sscanf(name, "%d_", &v); err != nil || v > schema[m.Domain] {
				continue
			}
			b, err := fs.ReadFile(m.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			old[name] = &fstest.MapFile{Data: b}
		}
		out = append(out, store.Migrations{Domain: m.Domain, FS: old})
	}
	return out
}

// newestSchema returns each domain's newest migration version in this
// binary.
func newestSchema(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range migrations() {
		names, err := fs.Glob(m.FS, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			var v int
			if _, err := fmt.Sscanf(name, "%d_", &v); err == nil && v > out[m.Domain] {
				out[m.Domain] = v
			}
		}
	}
	return out
}

// TestUpgradeRecordsOldRunRollbacksFailed: a release run of a binary from
// before deployments recorded a failure (1d4d4ec) whose health check
// failed rolled its deployment back, recording only the rollback (by the
// run's actor, "from deployment 5 to 1") and the run's failure in the
// audit log. After the upgrade that deployment is failed, as a run
// records one since: a rollback naming it is refused, and a plain one does
// not return to it. A rollback someone asked for of a run that succeeded
// leaves its deployment good. The rows are those the old binary wrote.
func TestUpgradeRecordsOldRunRollbacksFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	if err := db.Migrate(ctx, migrationsAsOf(t, schemaOf1d4d4ec)...); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO projects (name, created_at) VALUES ('example', '2026-11-27T20:29:25.2Z')`,
		`INSERT INTO artifacts (digest, project, release, manifest, signature, key_id, files, bytes, created_at) VALUES
			('sha256:10', 'example', 'v1.0.0', '', '', 'k', 1, 1, '2026-11-27T20:29:25.2Z'),
			('sha256:13', 'example', 'v1.3.0', '', '', 'k', 1, 1, '2026-11-27T20:29:31.8Z'),
			('sha256:14', 'example', 'v1.4.0', '', '', 'k', 1, 1, '2026-11-27T20:29:43.3Z'),
			('sha256:15', 'example', 'v1.5.0', '', '', 'k', 1, 1, '2026-11-27T20:31:00Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('example', 'staging', '2026-11-27T20:29:25.2Z')`,
		`INSERT INTO deployments (id, project, environment, artifact, actor, message, created_at) VALUES
			(1, 'example', 'staging', 'sha256:10', 'admin', 'pipeline run 1', '2026-11-27T20:29:25.210614375Z'),
			(5, 'example', 'staging', 'sha256:13', 'admin', 'pipeline run 3', '2026-11-27T20:29:31.806297966Z'),
			(6, 'example', 'staging', 'sha256:14', 'admin', 'pipeline run 4', '2026-11-27T20:29:43.33741161Z'),
			(8, 'example', 'staging', 'sha256:15', 'admin', 'pipeline run 7', '2026-11-27T20:31:00Z')`,
		`INSERT INTO deploy_events (project, environment, action, deployment, actor, detail, at) VALUES
			('example', 'staging', 'deploy', 1, 'admin', 'pipeline run 1', '2026-11-27T20:29:25.210614375Z'),
			('example', 'staging', 'deploy', 5, 'admin', 'pipeline run 3', '2026-11-27T20:29:31.806297966Z'),
			('example', 'staging', 'rollback', 1, 'admin', 'from deployment 5 to 1', '2026-11-27T20:29:41.378530769Z'),
			('example', 'staging', 'deploy', 6, 'admin', 'pipeline run 4', '2026-11-27T20:29:43.33741161Z'),
			('example', 'staging', 'rollback', 1, 'admin', 'from deployment 6 to 1', '2026-11-27T20:30:00.1Z'),
			('example', 'staging', 'deploy', 8, 'admin', 'pipeline run 7', '2026-11-27T20:31:00Z'),
			('example', 'staging', 'rollback', 1, 'admin', 'from deployment 8 to 1', '2026-11-27T20:32:00Z')`,
		`UPDATE environments SET active_id = 1 WHERE name = 'staging'`,
		`INSERT INTO audit_log (seq, at, actor, action, target, outcome, detail, prev, hash) VALUES
			(33, '2026-11-27T20:29:41.378717506Z', 'admin', 'deploy.rollback', 'example/staging', 'ok', 'from deployment 5 to 1', 'p', 'h33'),
			(35, '2026-11-27T20:29:41.390478786Z', 'admin', 'pipeline.run.failed', 'example/run/3', 'failed', 'step health-check/staging failed', 'h33', 'h35'),
			(41, '2026-11-27T20:29:43.500000000Z', 'admin', 'pipeline.run.succeeded', 'example/run/4', 'ok', '', 'h40', 'h41'),
			(50, '2026-11-27T20:31:10.000000000Z', 'admin', 'pipeline.run.failed', 'example/run/7', 'failed', 'rejected', 'h49', 'h50')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.MigrateAll(ctx, migrations()...); err != nil {
		t.Fatal(err)
	}
	svc := deploy.New(deploy.Options{DB: db})
	hist, err := svc.Deployments(ctx, "example", "staging", 0)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[int64]string{}
	for _, d := range hist {
		if d.Failure != "" {
			failed[d.ID] = d.Failure
			if d.FailedAt == nil || d.FailedAt.Format("15:04:05.000000000") != "20:29:41.378530769" || d.Status != deploy.StatusFailed {
				t.Errorf("deployment %d: status %s, failed at %v; want failed at its run's rollback", d.ID, d.Status, d.FailedAt)
			}
		}
	}
	if len(failed) != 1 || failed[5] != "release run 3 failed" {
		t.Fatalf("failed deployments after the upgrade: %v, want only 5 (release run 3 failed), which its run took back", failed)
	}
	if _, err := svc.Rollback(ctx, "example", "staging", 5, "admin"); err == nil {
		t.Fatal("a rollback to deployment 5, which its run took back before the upgrade, was not refused")
	}
	if d, err := svc.Rollback(ctx, "example", "staging", 8, "admin"); err != nil || d.ID != 8 {
		t.Fatalf("a rollback to deployment 8, which a user rolled back after its run had failed: %v", err)
	}
	if d, err := svc.Rollback(ctx, "example", "staging", 6, "admin"); err != nil || d.ID != 6 {
		t.Fatalf("a rollback to deployment 6, which a user rolled back after its run succeeded: %v", err)
	}
	if d, err := svc.Rollback(ctx, "example", "staging", 0, "admin"); err != nil || d.ID != 1 {
		t.Fatalf("a plain rollback from 6 went to %+v (%v), want 1: 5 failed", d, err)
	}
}
