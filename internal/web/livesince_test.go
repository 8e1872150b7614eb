package web_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPagesShowLiveSince: after a rollback to a deployment made days
// before, the overview's "Live since" is the rollback's time, not the
// deployment's creation, and the environment's page shows the active
// deployment's creation with "live since" the rollback under it, and no
// "live since" on the others.
func TestPagesShowLiveSince(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	ctx := context.Background()
	first := f.deploy("production", "v1.0.0", "first release")
	const created = "2026-11-20T09:00:00Z" // days before the rollback
	if _, err := f.a.DB.ExecContext(ctx, `UPDATE deployments SET created_at = $1 WHERE id = $2`, created, first); err != nil {
		t.Fatal(err)
	}
	second := f.deploy("production", "v1.1.0", "second release")
	back, err := f.a.Deploy.Rollback(ctx, "shop", "production", first, "admin")
	if err != nil || back.LiveSince == nil {
		t.Fatalf("rollback: %+v, %v", back, err)
	}
	live := `<time datetime="` + back.LiveSince.UTC().Format(time.RFC3339) + `"`

	_, page := b.get("/")
	if row := envRow(page, "shop", "production"); !strings.Contains(row, live) || strings.Contains(row, created) ||
		!strings.Contains(page, `<th scope="col">Live since</th>`) {
		t.Fatalf("the overview's production row after the rollback: %q", row)
	}
	_, page = b.get("/ui/envs/shop/production")
	if row := deploymentRow(page, first); !strings.Contains(row, `<time datetime="`+created+`"`) || !strings.Contains(row, "live since "+live) {
		t.Fatalf("the active deployment's row after the rollback: %q", row)
	}
	if row := deploymentRow(page, second); strings.Contains(row, "live since") {
		t.Fatalf("the rolled back deployment's row: %q", row)
	}
}
