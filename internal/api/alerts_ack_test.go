package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// firing makes a firing alert HighErrorRate in env (a monitor name such
// as staging.shop) and returns its id. The monitor's state is seeded in
// its table: this package tests the API, the monitor's own tests drive
// its state machine.
func (f *fixture) firing(env string) string {
	f.t.Helper()
	_, err := f.db.ExecContext(bg, `INSERT INTO monitor_alerts (rule, environment, state, severity, since, value, threshold, summary)
		VALUES ('HighErrorRate', $1, 'firing', 1, $2, 12, '5%', 'error rate 12% > 5%')
		ON CONFLICT (rule, environment) DO UPDATE SET state = 'firing', ack_by = ''`, env, time.Now().UnixMilli())
	if err != nil {
		f.t.Fatal(err)
	}
	return monitor.AlertID("HighErrorRate", env)
}

// TestAcknowledgeThroughTheAPI: the alert shows who acknowledged it and
// why, the audit log holds the change with its request's source, and
// bad ids and closed alerts get clear errors.
func TestAcknowledgeThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	id := f.firing("production.shop")
	code, body, _ := f.call("contributor", "POST", "/api/v1/alerts/"+url.PathEscape(id)+"/ack", AckRequest{Comment: "rolling back the CDN change"})
	if code != http.StatusOK {
		t.Fatalf("ack: %d %s", code, body)
	}
	var al monitor.Alert
	json.Unmarshal(body, &al)
	if al.ID != id || al.Ack == nil || al.Ack.By != "contributor" || al.Ack.Comment != "rolling back the CDN change" {
		t.Fatalf("answer: %s", body)
	}
	code, body, _ = f.call("viewer", "GET", "/api/v1/alerts", nil)
	var list []monitor.Alert
	json.Unmarshal(body, &list)
	if code != http.StatusOK || len(list) != 1 || list[0].Ack == nil || list[0].Ack.By != "contributor" {
		t.Fatalf("list: %d %s", code, body)
	}
	recs, err := f.log.Query(bg, audit.Filter{Action: "alert.ack"})
	if err != nil || len(recs) != 1 || recs[0].Target != id || recs[0].Actor != "contributor" || recs[0].Source == "" {
		t.Fatalf("audit: %+v %v", recs, err)
	}
	for path, want := range map[string]int{
		"/api/v1/alerts/no-environment/ack":                http.StatusBadRequest,
		"/api/v1/alerts/Nope@production.shop/ack":          http.StatusNotFound,
		"/api/v1/alerts/HighErrorRate@production.blog/ack": http.StatusNotFound,
	} {
		if code, body, _ := f.call("admin", "POST", path, AckRequest{}); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}
	f.db.ExecContext(bg, `UPDATE monitor_alerts SET state = 'resolved'`)
	if code, body, _ := f.call("admin", "POST", "/api/v1/alerts/"+id+"/ack", AckRequest{}); code != http.StatusConflict ||
		!strings.Contains(string(body), "only a pending or firing alert") {
		t.Fatalf("ack of a resolved alert: %d %s", code, body)
	}
}
