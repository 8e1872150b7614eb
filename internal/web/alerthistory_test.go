package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TestAlertHistoryOfAStagingReader: a user who may read staging only sees
// staging's alert changes in the history even when production had more
// than a page of them since; before, the newest 100 were read and then
// filtered, which left the staging reader an empty history.
func TestAlertHistoryOfAStagingReader(t *testing.T) {
	f := newFixture(t)
	f.addUserGrants("contractor", contractorPW, auth.Grant{Role: auth.RoleViewer, Project: "shop", Environment: "staging"})
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).UnixMilli()
	insert := func(env, summary string) {
		t.Helper()
		_, err := f.a.DB.ExecContext(ctx, `INSERT INTO monitor_alert_history (rule, environment, state, severity, value, threshold, at, summary)
			VALUES ('Down', $1, 'firing', 0, 0, '99%', $2, $3)`, env, at, summary)
		if err != nil {
			t.Fatal(err)
		}
		at++
	}
	insert("staging.shop", "staging-went-down")
	for range 150 {
		insert("production.shop", "production-went-down")
	}
	b := f.browser()
	b.mustLogin("contractor", contractorPW)
	_, page := b.get("/ui/alerts")
	if !strings.Contains(page, "staging-went-down") || strings.Contains(page, "production") {
		t.Fatalf("a staging reader's alert history:\n%s", page)
	}
}
