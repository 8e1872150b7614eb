package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/store"
)

// TestAlertsAck: 'phoenix alerts ack ID --comment' records who is on a
// firing alert, 'phoenix alerts' shows it, 'phoenix alerts unack' takes it
// back, and an id without '@' is refused with the fix.
func TestAlertsAck(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "", "projects", "--data", data) // creates and migrates the data dir
	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(context.Background(), `INSERT INTO monitor_alerts (rule, environment, state, severity, since, value, threshold, summary)
		VALUES ('HighErrorRate', 'production.shop', 'firing', 0, $1, 7, '5%', 'error rate 7% > 5%')`, time.Now().UnixMilli())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", "alerts", "ack", "HighErrorRate@production.shop", "--comment", "rolling back", "--data", data)
	if !strings.Contains(out, "HighErrorRate@production.shop (firing) acknowledged by admin") {
		t.Fatalf("ack: %q", out)
	}
	out = mustRun(t, "", "alerts", "--data", data)
	if !strings.Contains(out, "HighErrorRate@production.shop") || !strings.Contains(out, ": rolling back") {
		t.Fatalf("alerts table:\n%s", out)
	}
	var as []monitor.Alert
	json.Unmarshal([]byte(mustRun(t, "", "alerts", "-o", "json", "--data", data)), &as)
	if len(as) != 1 || as[0].Ack == nil || as[0].Ack.Comment != "rolling back" {
		t.Fatalf("alerts json: %+v", as)
	}
	if out := mustRun(t, "", "alerts", "unack", "HighErrorRate@production.shop", "--data", data); !strings.Contains(out, "no longer acknowledged") {
		t.Fatalf("unack: %q", out)
	}
	_, errs, code := runVault(t, "", "alerts", "ack", "HighErrorRate", "--data", data)
	if code == 0 || !strings.Contains(errs, "RULE@ENVIRONMENT") {
		t.Fatalf("a bad id: exit %d %s", code, errs)
	}
}
