package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// HistoryBetween lists the alert state changes at or after from and
// before to, oldest first, for reports (internal/report).
func (m *Monitor) HistoryBetween(ctx context.Context, from, to time.Time) ([]AlertEvent, error) {
	rows, err := m.opts.DB.QueryContext(ctx, `SELECT id, rule, environment, state, severity, value, threshold, at, silenced, summary
		FROM monitor_alert_history WHERE at >= $1 AND at < $2 ORDER BY at, id`, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("monitor: alert history: %w", err)
	}
	return scanHistory(rows)
}

// scanHistory reads rows of monitor_alert_history's columns (id, rule,
// environment, state, severity, value, threshold, at, silenced, summary).
func scanHistory(rows *sql.Rows) ([]AlertEvent, error) {
	defer rows.Close()
	var out []AlertEvent
	for rows.Next() {
		var e AlertEvent
		var at int64
		var silenced int
		if err := rows.Scan(&e.ID, &e.Rule, &e.Environment, &e.State, &e.Severity, &e.Value, &e.Threshold, &at, &silenced, &e.Summary); err != nil {
			return nil, err
		}
		e.At, e.Silenced = time.UnixMilli(at).UTC(), silenced == 1
		out = append(out, e)
	}
	return out, rows.Err()
}

// AvailabilityTargets returns each environment's availability objective:
// the highest threshold of the availability rules that evaluate it (a
// rule without an environment covers every one, under the key "").
func (m *Monitor) AvailabilityTargets() map[string]float64 {
	out := map[string]float64{}
	for _, r := range m.rulesSnapshot() {
		if r.Metric != "availability" {
			continue
		}
		if t, ok := out[r.Environment]; !ok || r.Threshold > t {
			out[r.Environment] = r.Threshold
		}
	}
	return out
}
