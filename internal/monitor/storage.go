package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

// StorageHealth is what the server's storage check found, for the
// built-in DiskRule and StoreWriteRule and for /api/v1/health.
type StorageHealth struct {
	// Store is "ok", or what keeps the state store from taking writes:
	// "unreachable", "disk full (data dir)", "cannot write".
	Store string
	// Where names the store for alerts: the SQLite file or the
	// PostgreSQL URL without its password.
	Where string
	Disks []DiskSpace
}

// StoreOK is StorageHealth.Store of a store that takes writes.
const StoreOK = "ok"

// DiskSpace is the room left in one of the server's folders.
type DiskSpace struct {
	Name  string // what the folder holds: "data dir", "blob dir"
	Path  string
	Free  uint64 // bytes an unprivileged writer may still use
	Total uint64
	// Low: Free is under the server's --disk-alert-free.
	Low bool
	// Error is why the space could not be read ("" when it was).
	Error string
}

// FreePercent is Free as a percentage of Total, to two decimals.
func (d DiskSpace) FreePercent() float64 {
	if d.Total == 0 {
		return 0
	}
	return math.Round(float64(d.Free)/float64(d.Total)*10000) / 100
}

// DiskRule is the built-in rule that fires while a folder of the server
// has less room than --disk-alert-free: deployments, backups and the
// state store start failing once it is gone. Its alerts are one per
// folder: disk-low@disk:/var/lib/phoenix.
const DiskRule = "disk-low"

// StoreWriteRule is the built-in rule that fires while the state store
// cannot commit (its disk is full, the database is unreachable): every
// change through the API fails meanwhile. Its alert is
// store-write-failing@store:/var/lib/phoenix/state.db.
const StoreWriteRule = "store-write-failing"

// diskPrefix and storePrefix mark the rules' instances, which belong to
// the server rather than to an environment.
const (
	diskPrefix  = "disk:"
	storePrefix = "store:"
)

// diskMetric is DiskRule's metric: 1 while the folder's room is under the
// threshold, 0 otherwise (the threshold may be a percentage or a size:
// the alert's summary says which and how much is left).
const diskMetric = "disk_low"

// storeWriteMetric is StoreWriteRule's metric: 1 while the write probe
// fails.
const storeWriteMetric = "store_write_failing"

// diskRule fires at the first evaluation that sees the room low (the
// threshold already leaves time to act), and resolves at the first that
// does not.
func diskRule() Rule {
	return Rule{Name: DiskRule, Metric: diskMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 1, SuccessThreshold: 1}.withDefaults()
}

// storeWriteRule fires after two failed probes in a row (one can be a
// transaction that held the store for a moment) and resolves at the first
// that succeeds.
func storeWriteRule() Rule {
	return Rule{Name: StoreWriteRule, Metric: storeWriteMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 2, SuccessThreshold: 1}.withDefaults()
}

// storageValues returns both rules' values and the summaries of those
// breached; ok is false when the check is off or failed (the alerts then
// keep their state).
func (m *Monitor) storageValues(ctx context.Context) (disks, writes map[string]float64, details map[string]string, ok bool) {
	if m.opts.Storage == nil {
		return nil, nil, nil, false
	}
	h, err := m.opts.Storage(ctx)
	if err != nil {
		m.logErr("storage check", err)
		return nil, nil, nil, false
	}
	disks, writes, details = map[string]float64{}, map[string]float64{}, map[string]string{}
	for env := range m.instancesOf(DiskRule) {
		disks[env] = 0
	}
	for env := range m.instancesOf(StoreWriteRule) {
		writes[env] = 0
	}
	for _, d := range h.Disks {
		if d.Error != "" {
			continue // unknown: the alert keeps its state
		}
		k := diskPrefix + d.Path
		disks[k] = 0
		if d.Low {
			disks[k], details[k] = 1, describeDiskLow(d)
		}
	}
	k := storePrefix + h.Where
	writes[k] = 0
	if h.Store != StoreOK {
		writes[k], details[k] = 1, fmt.Sprintf("the state store %s cannot commit: %s; every change through the API fails until it can", h.Where, h.Store)
	}
	return disks, writes, details, true
}

// describeDiskLow says how much room a folder has left.
func describeDiskLow(d DiskSpace) string {
	return fmt.Sprintf("%s %s: %s free of %s (%s%%), under the server's --disk-alert-free", d.Name, d.Path,
		formatBytes(d.Free), formatBytes(d.Total), strconv.FormatFloat(d.FreePercent(), 'f', -1, 64))
}

// describeStorage says what the storage rules saw when not breached.
func describeStorage(metric string, v float64) string {
	switch {
	case metric == diskMetric && v <= 0:
		return "the folder has room above the server's --disk-alert-free"
	case metric == storeWriteMetric && v <= 0:
		return "the state store takes writes"
	}
	return metric + " " + strconv.FormatFloat(v, 'f', -1, 64)
}

// formatBytes shows n in binary units, e.g. "1.5 GiB".
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(math.Round(float64(n)/float64(div)*10)/10, 'f', -1, 64) + " " + "KMGTPE"[exp:exp+1] + "iB"
}
