package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Silence kinds.
const (
	KindSilence     = "silence"     // hold back matching alert notifications
	KindMaintenance = "maintenance" // the same, and the status page shows maintenance
)

// Silence holds back notifications of matching alerts between Starts and
// Ends. Alerts still change state and are recorded in the history (marked
// silenced).
type Silence struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Rule        string    `json:"rule,omitempty"`        // rule name; * matches any run of characters; "" all rules
	Environment string    `json:"environment,omitempty"` // "" every environment
	Starts      time.Time `json:"starts"`
	Ends        time.Time `json:"ends"`
	Comment     string    `json:"comment,omitempty"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Matches reports whether s covers the alert rule in env at t.
func (s Silence) Matches(rule, env string, t time.Time) bool {
	if t.Before(s.Starts) || !t.Before(s.Ends) {
		return false
	}
	if s.Environment != "" && s.Environment != env {
		return false
	}
	return s.Rule == "" || glob(s.Rule, rule)
}

// AddSilence records s. Kind defaults to silence and Starts to now.
func (m *Monitor) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	now := m.opts.Now()
	if s.Kind == "" {
		s.Kind = KindSilence
	}
	if s.Kind != KindSilence && s.Kind != KindMaintenance {
		return s, usererr.New(usererr.Invalid, "silence kind %q is not silence or maintenance", s.Kind)
	}
	if s.Starts.IsZero() {
		s.Starts = now
	}
	if !s.Ends.After(s.Starts) {
		return s, usererr.New(usererr.Invalid, "the silence ends (%s) before it starts (%s)", s.Ends.Format(time.RFC3339), s.Starts.Format(time.RFC3339)).
			WithHint("give a positive duration, e.g. --for 2h")
	}
	if strings.TrimSpace(s.Comment) == "" && s.Kind == KindSilence {
		return s, usererr.New(usererr.Invalid, "a silence needs a comment saying why").WithHint(`add --comment "deploying the new CDN"`)
	}
	s.CreatedAt = now
	err := m.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO monitor_silences (kind, rule, environment, starts, ends, comment, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, s.Kind, s.Rule, s.Environment, s.Starts.UnixMilli(), s.Ends.UnixMilli(),
			s.Comment, s.CreatedBy, now.UnixMilli()).Scan(&s.ID)
		if err != nil {
			return err
		}
		return m.auditSilence(ctx, tx, "monitor.silence", s.ID, s.CreatedBy, s.describe())
	})
	if err != nil {
		return s, fmt.Errorf("monitor: add silence: %w", err)
	}
	return s, nil
}

// describe is a silence's audit detail: what it covers, until when, why.
func (s Silence) describe() string {
	rule, env := s.Rule, s.Environment
	if rule == "" {
		rule = "*"
	}
	if env == "" {
		env = "*"
	}
	return fmt.Sprintf("%s rule=%s env=%s %s..%s: %s", s.Kind, rule, env,
		s.Starts.UTC().Format(time.RFC3339), s.Ends.UTC().Format(time.RFC3339), s.Comment)
}

// ExpireSilence ends silence id now; by is who ends it (for the audit log).
func (m *Monitor) ExpireSilence(ctx context.Context, id int64, by string) error {
	return m.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE monitor_silences SET ends = $1 WHERE id = $2 AND ends > $1`, m.opts.Now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("monitor: expire silence: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return usererr.New(usererr.NotFound, "no active silence %d", id).WithHint("see 'phoenix alerts silences'")
		}
		return m.auditSilence(ctx, tx, "monitor.silence.expire", id, by, "ended early")
	})
}

// auditSilence records a change to silence id in the audit log, in tx.
func (m *Monitor) auditSilence(ctx context.Context, tx *sql.Tx, action string, id int64, by, detail string) error {
	if m.opts.Audit == nil {
		return nil
	}
	return m.opts.Audit(ctx, tx, AuditEvent{Action: action, Target: fmt.Sprintf("silence/%d", id), Actor: by, Detail: detail})
}

// Silences lists silences, only those not ended yet unless all.
func (m *Monitor) Silences(ctx context.Context, all bool) ([]Silence, error) {
	rows, err := m.opts.DB.QueryContext(ctx, `SELECT id, kind, rule, environment, starts, ends, comment, created_by, created_at
		FROM monitor_silences WHERE $1 = 1 OR ends > $2 ORDER BY starts, id`, all, m.opts.Now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("monitor: silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var s Silence
		var starts, ends, created int64
		if err := rows.Scan(&s.ID, &s.Kind, &s.Rule, &s.Environment, &starts, &ends, &s.Comment, &s.CreatedBy, &created); err != nil {
			return nil, err
		}
		s.Starts, s.Ends, s.CreatedAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC(), time.UnixMilli(created).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// silencedSet reports which changed alerts a silence covers now.
func (m *Monitor) silencedSet(ctx context.Context, changes []transition, now time.Time) (map[alertKey]bool, error) {
	out := map[alertKey]bool{}
	if len(changes) == 0 {
		return out, nil
	}
	sil, err := m.Silences(ctx, false)
	if err != nil {
		return nil, err
	}
	for _, t := range changes {
		for _, s := range sil {
			if s.Matches(t.alert.Rule, t.alert.Environment, now) {
				out[alertKey{t.alert.Rule, t.alert.Environment}] = true
			}
		}
	}
	return out, nil
}

// InMaintenance reports whether env is in a maintenance window at now.
func (m *Monitor) InMaintenance(ctx context.Context, env string) bool {
	sil, err := m.Silences(ctx, false)
	if err != nil {
		return false
	}
	now := m.opts.Now()
	for _, s := range sil {
		if s.Kind == KindMaintenance && (s.Environment == "" || s.Environment == env) && s.Rule == "" && !now.Before(s.Starts) && now.Before(s.Ends) {
			return true
		}
	}
	return false
}

// Alerts lists alert instances: pending and firing ones, or all with all.
func (m *Monitor) Alerts(ctx context.Context, all bool) ([]Alert, error) {
	rows, err := m.opts.DB.QueryContext(ctx, `SELECT `+alertColumns+`
		FROM monitor_alerts WHERE $1 = 1 OR state IN ('pending', 'firing') ORDER BY severity, rule, environment`, all)
	if err != nil {
		return nil, fmt.Errorf("monitor: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := m.opts.Now()
	sil, err := m.Silences(ctx, false)
	for i := range out {
		for _, s := range sil {
			out[i].Silenced = out[i].Silenced || s.Matches(out[i].Rule, out[i].Environment, now)
		}
	}
	return out, err
}

const alertColumns = `rule, environment, state, severity, since, value, threshold, fails, oks, last_notified, summary,
	ack_by, ack_at, ack_comment`

func scanAlert(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var since, notified, ackAt int64
	var ack Ack
	if err := row.Scan(&a.Rule, &a.Environment, &a.State, &a.Severity, &since, &a.Value, &a.Threshold, &a.fails, &a.oks, &notified, &a.Summary,
		&ack.By, &ackAt, &ack.Comment); err != nil {
		return a, err
	}
	a.ID = AlertID(a.Rule, a.Environment)
	a.Since = time.UnixMilli(since).UTC()
	if notified > 0 {
		a.LastNotified = time.UnixMilli(notified).UTC()
	}
	a.stored = storedOf(&a)
	if ack.By != "" {
		ack.At = time.UnixMilli(ackAt).UTC()
		a.Ack = &ack
	}
	return a, nil
}

// History lists alert state changes, newest first.
func (m *Monitor) History(ctx context.Context, limit int) ([]AlertEvent, error) {
	return m.HistoryOf(ctx, limit, nil)
}

// HistoryOf lists the newest limit alert state changes that keep accepts
// (every one when keep is nil), newest first: it reads on in batches past
// those it leaves out, so a caller who may see one environment gets its
// changes however many other environments had since.
func (m *Monitor) HistoryOf(ctx context.Context, limit int, keep func(AlertEvent) bool) ([]AlertEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	batch := limit
	if keep != nil {
		batch = max(batch, 500)
	}
	out := []AlertEvent{}
	for before := int64(math.MaxInt64); ; {
		rows, err := m.opts.DB.QueryContext(ctx, `SELECT id, rule, environment, state, severity, value, threshold, at, silenced, summary
			FROM monitor_alert_history WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, batch)
		if err != nil {
			return nil, fmt.Errorf("monitor: alert history: %w", err)
		}
		evs, err := scanHistory(rows)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if before = e.ID; keep == nil || keep(e) {
				out = append(out, e)
			}
		}
		if len(out) >= limit || len(evs) < batch {
			return out[:min(len(out), limit)], nil
		}
	}
}
