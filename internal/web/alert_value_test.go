package web_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestAlertValuesAreRounded: the alerts page shows a measured value as
// the summary beside it does (66.67), not as the float it is stored as
// (66.66666666666667).
func TestAlertValuesAreRounded(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	if _, err := f.a.DB.ExecContext(context.Background(), `INSERT INTO monitor_alert_history
		(rule, environment, state, severity, value, threshold, at, silenced, summary)
		VALUES ('ProbeAvailability', 'production.shop', 'pending', 0, $1, '99%', $2, 0, 'availability 66.67% < 99% over 1m')`,
		200.0/3, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/ui/alerts")
	if !strings.Contains(page, `<td>66.67 <span class="muted">99%</span></td>`) || strings.Contains(page, "66.666") {
		t.Fatalf("the history's value is not rounded:\n%s", page)
	}
}
