package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
)

// TestUpgradeRecordsOldVerifyRollbacksFailed: a database written by a
// binary from before deployments recorded a failure (schema 3, e.g.
// 1d4d4ec) holds the server's automatic rollbacks only as deploy_events
// of phoenix-verify, "from deployment X to Y". After the upgrade such a
// deployment is failed, as the server records one since: a plain rollback
// skips it (it used to return production to the release the server had
// taken back), --to naming it is refused, and a manual rollback's
// deployments stay good. The rows are those 'phoenix demo' of that binary
// leaves, then a release and a staging rollback of a user's.
func TestUpgradeRecordsOldVerifyRollbacksFailed(t *testing.T) {
	db := upgraded(t, 4,
		`INSERT INTO projects (name, created_at) VALUES ('example', '2026-11-27T20:12:50.2Z')`,
		`INSERT INTO artifacts (digest, project, release, manifest, signature, key_id, files, bytes, created_at) VALUES
			('sha256:10', 'example', 'v1.0.0', '', '', 'k', 1, 1, '2026-11-27T20:12:50.2Z'),
			('sha256:11', 'example', 'v1.1.0', '', '', 'k', 1, 1, '2026-11-27T20:12:50.4Z'),
			('sha256:12', 'example', 'v1.2.0', '', '', 'k', 1, 1, '2026-11-27T20:12:50.5Z'),
			('sha256:13', 'example', 'v1.3.0', '', '', 'k', 1, 1, '2026-11-27T20:13:08.3Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('example', 'production', '2026-11-27T20:12:50.2Z')`,
		`INSERT INTO environments (project, name, created_at) VALUES ('example', 'staging', '2026-11-27T20:12:50.2Z')`,
		`INSERT INTO deployments (id, project, environment, artifact, actor, message, created_at) VALUES
			(1, 'example', 'staging', 'sha256:10', 'admin', 'pipeline run 1', '2026-11-27T20:12:50.254467574Z'),
			(2, 'example', 'production', 'sha256:10', 'admin', 'pipeline run 1', '2026-11-27T20:12:50.280142364Z'),
			(3, 'example', 'production', 'sha256:11', 'admin', 'pipeline run 2', '2026-11-27T20:12:50.47833419Z'),
			(4, 'example', 'production', 'sha256:12', 'admin', 'a hotfix straight to production', '2026-11-27T20:12:50.535467536Z'),
			(5, 'example', 'staging', 'sha256:13', 'admin', 'pipeline run 3', '2026-11-27T20:13:08.370823241Z'),
			(6, 'example', 'production', 'sha256:13', 'admin', 'pipeline run 3', '2026-11-27T20:13:08.436533531Z'),
			(7, 'example', 'staging', 'sha256:12', 'admin', '', '2026-11-27T20:13:08.543844907Z')`,
		`INSERT INTO deploy_events (project, environment, action, deployment, actor, detail, at) VALUES
			('example', 'staging', 'deploy', 1, 'admin', 'pipeline run 1', '2026-11-27T20:12:50.254467574Z'),
			('example', 'production', 'deploy', 2, 'admin', 'pipeline run 1', '2026-11-27T20:12:50.280142364Z'),
			('example', 'production', 'deploy', 3, 'admin', 'pipeline run 2', '2026-11-27T20:12:50.47833419Z'),
			('example', 'production', 'rollback', 2, 'admin', 'from deployment 3 to 2', '2026-11-27T20:12:50.518440886Z'),
			('example', 'production', 'rollback', 3, 'admin', 'from deployment 2 to 3', '2026-11-27T20:12:50.523831783Z'),
			('example', 'production', 'deploy', 4, 'admin', 'a hotfix straight to production', '2026-11-27T20:12:50.535467536Z'),
			('example', 'production', 'rollback', 3, 'phoenix-verify', 'from deployment 4 to 3', '2026-11-27T20:12:52.046112228Z'),
			('example', 'staging', 'deploy', 5, 'admin', 'pipeline run 3', '2026-11-27T20:13:08.370823241Z'),
			('example', 'production', 'deploy', 6, 'admin', 'pipeline run 3', '2026-11-27T20:13:08.436533531Z'),
			('example', 'staging', 'deploy', 7, 'admin', '', '2026-11-27T20:13:08.543844907Z'),
			('example', 'staging', 'rollback', 5, 'admin', 'from deployment 7 to 5', '2026-11-27T20:13:08.584055852Z')`,
		`UPDATE environments SET active_id = 6 WHERE name = 'production'`,
		`UPDATE environments SET active_id = 5 WHERE name = 'staging'`)
	svc := New(Options{DB: db})
	failed := map[int64]string{}
	for _, env := range []string{"production", "staging"} {
		hist, err := svc.Deployments(ctx, "example", env, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range hist {
			if d.Failure != "" || d.Status == StatusFailed {
				failed[d.ID] = d.Failure
				at := time.Date(2026, 11, 27, 20, 12, 52, 46112228, time.UTC)
				if d.FailedAt == nil || !d.FailedAt.Equal(at) || d.Status != StatusFailed || d.Verification != VerifyFailed {
					t.Errorf("deployment %d: status %q, verification %q, failed at %v; want failed, failed, %v", d.ID, d.Status, d.Verification, d.FailedAt, at)
				}
			}
		}
	}
	if len(failed) != 1 || failed[4] != "verification" {
		t.Fatalf("failed deployments after the upgrade: %v, want only 4 (verification), which phoenix-verify took back", failed)
	}
	if _, err := svc.Rollback(ctx, "example", "production", 4, "admin"); err == nil {
		t.Fatal("a rollback to deployment 4, which failed verification before the upgrade, was not refused")
	}
	back, err := svc.Rollback(ctx, "example", "production", 0, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != 3 || back.Release != "v1.1.0" {
		t.Fatalf("a plain rollback after the upgrade went to deployment %d (%s), want 3 (v1.1.0): 4 failed verification", back.ID, back.Release)
	}
}

// TestUpgradeReadsRollbacksByIndex: migration 012 looks up, for every
// deployment, its environment's rollbacks by one actor; without an index
// on deploy_events that is a scan of every event per deployment, which
// took minutes at the start of an upgrade on a store of 20,000
// deployments and 40,000 events. SQLite's plan for the migration's
// statement must search deploy_events by the index 012 makes.
func TestUpgradeReadsRollbacksByIndex(t *testing.T) {
	db := upgraded(t, 12)
	if db.Dialect != store.SQLite {
		t.Skip("EXPLAIN QUERY PLAN is SQLite's")
	}
	b, err := migrationFiles.ReadFile("migrations/012_verify_rollbacks_before_004.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmt := string(b[strings.Index(string(b), "UPDATE deployments"):])
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+stmt)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	searches := 0
	for _, p := range plan {
		if strings.Contains(p, " ev") && !strings.Contains(p, "USING INDEX deploy_events_action") {
			t.Errorf("reads deploy_events without the index: %q", p)
		}
		if strings.Contains(p, "USING INDEX deploy_events_action") {
			searches++
		}
	}
	if searches == 0 {
		t.Errorf("no lookup by the index in the plan %q", plan)
	}
}
