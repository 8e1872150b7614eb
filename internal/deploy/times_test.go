package deploy

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// The store compares and orders times as text. These tests put two times
// in the same second, one on the second itself: written in RFC3339Nano
// ("…:00Z", "…:00.5Z"), the whole second sorted after the half ('Z' > '.').

// onTheSecond is a time with no fraction.
var onTheSecond = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// TestUnverifiedOldestFirstWithinASecond: a deployment pending
// verification since a second comes before one pending since half a
// second later.
func TestUnverifiedOldestFirstWithinASecond(t *testing.T) {
	f := verifying(newFixture(t))
	now := onTheSecond
	clockAt(f, &now)
	first, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	now = now.Add(500 * time.Millisecond)
	second, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	if got, want := unverifiedIDs(t, f.svc), []int64{first.ID, second.ID}; !slices.Equal(got, want) {
		t.Fatalf("unverified %v, want %v (oldest verification first)", got, want)
	}
}

// TestCollectGarbageDropsAnUploadExpiredWithinTheSecond: a collection
// half a second after an upload expired (on the second) drops it.
func TestCollectGarbageDropsAnUploadExpiredWithinTheSecond(t *testing.T) {
	f := newFixture(t)
	now := onTheSecond
	clockAt(f, &now)
	m, _ := manifestOf("next", map[string]string{"index.html": "in flight"})
	canon, _ := m.Canonical()
	if _, err := f.svc.BeginUpload(ctx, "site", canon); err != nil {
		t.Fatal(err)
	}
	now = now.Add(f.svc.opts.UploadTTL + 500*time.Millisecond)
	st, err := f.svc.CollectGarbage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Uploads != 1 {
		t.Fatalf("collected %+v, want the expired upload", st)
	}
}

// timeColumns are the deploy domain's stored times.
var timeColumns = map[string][]string{
	"projects":           {"created_at"},
	"artifacts":          {"created_at"},
	"environments":       {"created_at", "live_since"},
	"deployments":        {"created_at", "failed_at", "verification_at"},
	"uploads":            {"created_at", "expires_at"},
	"deploy_events":      {"at"},
	"deploy_owed_alerts": {"at"},
}

// TestTimesMigration: times stored in RFC3339Nano before migration 011
// are rewritten with nine fraction digits, so they order right, compare
// equal to what the service writes (ClaimVerification), and read (and
// show in JSON) as they did.
func TestTimesMigration(t *testing.T) {
	f := verifying(newFixture(t))
	now := onTheSecond
	clockAt(f, &now)
	first, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	second, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	m, _ := manifestOf("next", map[string]string{"index.html": "in flight"})
	canon, _ := m.Canonical()
	if _, err := f.svc.BeginUpload(ctx, "site", canon); err != nil {
		t.Fatal(err)
	}
	db := f.svc.opts.DB
	// As an older server wrote them: every time on the second but the
	// second deployment's, pending since half a second later.
	for table, cols := range timeColumns {
		for _, c := range cols {
			if _, err := db.ExecContext(ctx, `UPDATE `+table+` SET `+c+` = '2026-11-27T10:00:00Z' WHERE `+c+` <> ''`); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE deployments SET verification_at = '2026-11-27T10:00:00.5Z', created_at = '2026-11-27T10:00:00.25Z'
		WHERE id = $1`, second.ID); err != nil {
		t.Fatal(err)
	}
	listing := func() string {
		t.Helper()
		var all []Deployment
		for _, env := range []string{"production", "staging"} {
			ds, err := f.svc.Deployments(ctx, "site", env, 0)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ds...)
		}
		b, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := listing()

	// Migration 011 runs again on these rows (and those after it: a
	// migration runs only above the highest applied; the column 013 adds
	// is dropped for it to add again).
	if _, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE domain = 'deploy' AND version >= 11`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE deployments DROP COLUMN verify_restored`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	if after := listing(); after != before {
		t.Fatalf("deployments after the migration:\n %s\nbefore:\n %s", after, before)
	}
	for table, cols := range timeColumns {
		for _, c := range cols {
			rows, err := db.QueryContext(ctx, `SELECT `+c+` FROM `+table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				if p := parseTime(s); s != "" && (p == nil || fmtTime(*p) != s) {
					t.Errorf("%s.%s = %q after the migration, want it as %s", table, c, s, timeLayout)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	rs, err := f.svc.Unverified(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Deployment.ID != first.ID || rs[1].Deployment.ID != second.ID {
		t.Fatalf("unverified after the migration: %+v, want %d then %d", rs, first.ID, second.ID)
	}
	now = now.Add(time.Minute)
	if ok, err := f.svc.ClaimVerification(ctx, &rs[0], "phoenix-verify"); !ok || err != nil {
		t.Fatalf("claim of a verification pending since before the migration: %v, %v", ok, err)
	}
}
