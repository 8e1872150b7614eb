package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestReplicasShareTheBackupStatus: the replicas share one backup
// repository, so a backup taken through one is the last success that
// 'phoenix backup status' reports through every other, instead of "no
// backup yet" from the replica that did not take it.
func TestReplicasShareTheBackupStatus(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	repo := initRepo(t, backupKey)
	start := func() *App {
		dir := t.TempDir()
		rs.dirs = append(rs.dirs, dir)
		o := rs.options(t, dir)
		o.Backup = BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "daily"}
		return startOpts(t, o)
	}
	a, b := start(), start()
	code, body := apiDo(t, a, "POST", "/api/v1/backups")
	if code != http.StatusCreated {
		t.Fatalf("backup through the first replica: %d %s", code, body)
	}
	var res BackupResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if want := a.advertise(); !strings.HasSuffix(res.Snapshot.Host, " ("+want+")") {
		t.Errorf("snapshot host %q does not name the replica that took it (%s)", res.Snapshot.Host, want)
	}
	for name, r := range map[string]*App{"the replica that took it": a, "the other replica": b} {
		code, body := apiDo(t, r, "GET", "/api/v1/backups/status")
		var st BackupStatus
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("status through %s: %d %s", name, code, body)
		}
		if st.LastSnapshot != res.Snapshot.ID || st.LastSuccess == nil || !st.LastSuccess.Equal(res.Snapshot.Time) || st.Overdue {
			t.Errorf("status through %s: last snapshot %q at %v (overdue %v), want %q at %v",
				name, st.LastSnapshot, st.LastSuccess, st.Overdue, res.Snapshot.ID, res.Snapshot.Time)
		}
	}
}
