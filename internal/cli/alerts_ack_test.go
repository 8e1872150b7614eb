package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
	t.Parallel()
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

// inZoneEastOfUTC runs the test t again in a child process whose local
// zone is UTC+2, set before anything reads it, and reports false; in that
// child it reports true, and the test goes on there.
func inZoneEastOfUTC(t *testing.T) bool {
	t.Helper()
	if os.Getenv("PHOENIX_TEST_ZONE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PHOENIX_TEST_ZONE_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return false
	}
	time.Local = time.FixedZone("UTC+2", 2*60*60)
	return true
}

// TestAlertTimesInLocalZone: 'phoenix alerts' and '--history' show their
// times in the local zone, as the acknowledgement on the same row, the
// silences and the audit log do; they showed UTC, so on a machine two
// hours east of UTC an alert acknowledged two minutes after it fired
// read as acknowledged two hours later. It runs itself again in a child
// process whose local zone is UTC+2 (set before anything reads it).
func TestAlertTimesInLocalZone(t *testing.T) {
	t.Parallel()
	if !inZoneEastOfUTC(t) {
		return
	}
	data := t.TempDir()
	mustRun(t, "", "projects", "--data", data) // creates and migrates the data dir
	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	fired := time.Date(2026, 11, 26, 9, 12, 5, 0, time.UTC).UnixMilli()
	_, err = db.ExecContext(context.Background(), `INSERT INTO monitor_alerts (rule, environment, state, severity, since, value, threshold, summary)
		VALUES ('HighErrorRate', 'production.shop', 'firing', 0, $1, 7, '5%', 'error rate 7% > 5%')`, fired)
	if err == nil {
		_, err = db.ExecContext(context.Background(), `INSERT INTO monitor_alert_history (rule, environment, state, severity, value, threshold, at, summary)
			VALUES ('HighErrorRate', 'production.shop', 'firing', 0, 7, '5%', $1, 'error rate 7% > 5%')`, fired)
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	const local = "2026-11-26 11:12:05" // 09:12:05 UTC
	if out := mustRun(t, "", "alerts", "--data", data); !strings.Contains(out, local) {
		t.Errorf("alerts: SINCE is not in the local zone, want %s:\n%s", local, out)
	}
	if out := mustRun(t, "", "alerts", "--history", "--data", data); !strings.Contains(out, local) {
		t.Errorf("alerts --history: AT is not in the local zone, want %s:\n%s", local, out)
	}
}
