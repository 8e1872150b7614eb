package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// BackupHealth is the state of the server's backup schedule for the
// built-in BackupRule.
type BackupHealth struct {
	Repo string // the repository, as --backup-repo names it
	// Overdue: the schedule has let two runs pass without a successful
	// backup (one missed run can be a slow backup, two are a pattern).
	Overdue bool
	// Since is the last successful backup, or when the schedule began
	// when none has succeeded.
	Since time.Time
}

// BackupRule is the built-in rule that fires when the backups are
// overdue: the recovery point the schedule promises is no longer kept.
// Its one alert's environment is BackupInstance(repo):
// backup-overdue@backup:/mnt/backups/phoenix.
const BackupRule = "backup-overdue"

// backupPrefix marks the backup alert's instance, which belongs to the
// server rather than to an environment.
const backupPrefix = "backup:"

// BackupInstance is the alert instance ("environment") of repository repo.
func BackupInstance(repo string) string { return backupPrefix + repo }

// backupMetric is the built-in rule's metric: 0 while backups keep to the
// schedule; once overdue, the hours since the last successful backup.
const backupMetric = "backup_overdue_hours"

// backupRule returns the built-in rule: the schedule already allows one
// missed run, so it fires at the first evaluation that sees the backups
// overdue, reminds every 4 hours, and resolves at the first success.
func backupRule() Rule {
	return Rule{Name: BackupRule, Metric: backupMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 1, SuccessThreshold: 1}.withDefaults()
}

// backupValues returns backupMetric for the repository; ok is false when
// the alert is off or the state could not be read (the alert then keeps
// its state). Without a repository or a schedule, an alert left from
// before resolves.
func (m *Monitor) backupValues(ctx context.Context, now time.Time) (map[string]float64, bool) {
	if m.opts.Backups == nil {
		return nil, false
	}
	h, err := m.opts.Backups(ctx)
	if err != nil {
		m.logErr("backup status", err)
		return nil, false
	}
	out := map[string]float64{}
	for env := range m.instancesOf(BackupRule) {
		out[env] = 0
	}
	if h == nil {
		return out, true
	}
	v := 0.0
	if h.Overdue {
		v = math.Max(math.Round(now.Sub(h.Since).Hours()*100)/100, 0.01)
	}
	out[BackupInstance(h.Repo)] = v
	return out, true
}

// describeBackup says what the backup rule saw.
func describeBackup(v float64) string {
	if v <= 0 {
		return "backups keep to their schedule"
	}
	return fmt.Sprintf("no successful backup for %s hours: two scheduled runs passed without one (phoenix backup status says why)",
		strconv.FormatFloat(v, 'f', -1, 64))
}
