package monitor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Ack says who is on an open alert, since when, and what they said. It
// changes no notification of any other alert: only this alert's repeat
// reminders are held back while it lasts. It ends when the alert starts a
// new episode (pending again after it resolved or went inactive), or on
// Unacknowledge.
type Ack struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
}

// maxAckComment bounds an acknowledgement's comment, in bytes.
const maxAckComment = 1000

// hostEnv names the environment of host alerts (cpu, memory) in alert ids.
const hostEnv = "host"

// AlertID names an alert instance as RULE@ENV, ENV being the monitor's
// environment name (production.shop) or "host" for the server's own
// metrics. Environment names hold no '@', so the last one splits it.
func AlertID(rule, env string) string {
	if env == "" {
		env = hostEnv
	}
	return rule + "@" + env
}

// ParseAlertID splits an id made by AlertID.
func ParseAlertID(id string) (rule, env string, err error) {
	i := strings.LastIndexByte(id, '@')
	if i <= 0 || i == len(id)-1 {
		return "", "", usererr.New(usererr.Invalid, "alert id %q is not RULE@ENVIRONMENT", id).
			WithHint("copy the ID column of 'phoenix alerts', e.g. HighErrorRate@production.shop")
	}
	rule, env = id[:i], id[i+1:]
	if env == hostEnv {
		env = ""
	}
	if project, name, ok := strings.Cut(env, "/"); ok && !ServerInstance(env) && !strings.ContainsAny(name, "/.") {
		// shop/production, as 'phoenix status' and the history print it
		return "", "", usererr.New(usererr.Invalid, "alert id %q names the environment as PROJECT/ENV", id).
			WithHint("an alert id is RULE@ENV.PROJECT, as in the ID column of 'phoenix alerts': %s", AlertID(rule, name+"."+project))
	}
	return rule, env, nil
}

// AuditEvent is a change to the audit log: Action is alert.ack or
// alert.unack, Target the alert id.
type AuditEvent struct {
	Action, Target, Actor, Detail string
}

// Acknowledge records that by is on the pending or firing alert id, with a
// comment, and tells the alert's channels (event alert.acknowledged) unless
// a silence covers the alert. Acknowledging again replaces the comment.
func (m *Monitor) Acknowledge(ctx context.Context, id, by, comment string) (Alert, error) {
	comment = strings.TrimSpace(comment)
	if !utf8.ValidString(comment) || len(comment) > maxAckComment {
		return Alert{}, usererr.New(usererr.Invalid, "the comment must be UTF-8 text of at most %d bytes", maxAckComment)
	}
	now := m.opts.Now()
	ack := Ack{By: by, At: now.UTC().Truncate(time.Millisecond), Comment: comment}
	a, err := m.changeAck(ctx, id, by, func(a *Alert) (string, error) {
		if a.State != StatePending && a.State != StateFiring {
			return "", usererr.New(usererr.Conflict, "alert %s is %s: only a pending or firing alert can be acknowledged", id, a.State)
		}
		a.Ack = &ack
		return "alert.ack", nil
	})
	if err != nil {
		return a, err
	}
	m.announceAck(ctx, a, now)
	return a, nil
}

// Unacknowledge removes the acknowledgement of alert id: nobody is on it.
func (m *Monitor) Unacknowledge(ctx context.Context, id, by string) (Alert, error) {
	return m.changeAck(ctx, id, by, func(a *Alert) (string, error) {
		if a.Ack == nil {
			return "", usererr.New(usererr.Conflict, "alert %s is not acknowledged", id)
		}
		a.Ack = nil
		return "alert.unack", nil
	})
}

// changeAck reads alert id, lets change set its Ack (or refuse), and
// writes it and an audit record naming by in one transaction.
func (m *Monitor) changeAck(ctx context.Context, id, by string, change func(*Alert) (string, error)) (Alert, error) {
	rule, env, err := ParseAlertID(id)
	if err != nil {
		return Alert{}, err
	}
	var a Alert
	err = m.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if a, err = scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM monitor_alerts WHERE rule = $1 AND environment = $2`, rule, env)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return usererr.New(usererr.NotFound, "no alert %s", id).WithHint("see 'phoenix alerts' for the open ones")
			}
			return err
		}
		action, err := change(&a)
		if err != nil {
			return err
		}
		ack := a.Ack
		if ack == nil {
			ack = &Ack{}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE monitor_alerts SET ack_by = $1, ack_at = $2, ack_comment = $3 WHERE rule = $4 AND environment = $5`,
			ack.By, ack.At.UnixMilli(), ack.Comment, rule, env); err != nil {
			return err
		}
		if m.opts.Audit == nil {
			return nil
		}
		return m.opts.Audit(ctx, tx, AuditEvent{Action: action, Target: id, Actor: by, Detail: ack.Comment})
	})
	var ue *usererr.Error
	switch {
	case errors.As(err, &ue): // says what is wrong already, in the user's terms
		return a, err
	case err != nil:
		return a, fmt.Errorf("monitor: change the acknowledgement of %s: %w", id, err)
	}
	return a, nil
}

// announceAck tells the alert's channels who is on it. A silence that
// covers the alert holds this back too.
func (m *Monitor) announceAck(ctx context.Context, a Alert, now time.Time) {
	if m.opts.Publisher == nil {
		return
	}
	if sil, err := m.Silences(ctx, false); err == nil {
		for _, s := range sil {
			if s.Matches(a.Rule, a.Environment, now) {
				return
			}
		}
	}
	var channels []string
	for _, r := range m.rulesSnapshot() {
		if r.covers(alertKey{a.Rule, a.Environment}) { // its own project's rule, not another's of that name
			channels = r.Notify
			break
		}
	}
	msg := ackMessage(a, now)
	if _, err := m.opts.Publisher.Publish(ctx, msg, channels...); err != nil {
		m.opts.Logger.Error("monitor: queue acknowledgement notification", "error", err.Error())
	}
}

func ackMessage(a Alert, now time.Time) notify.Message {
	where := InstanceLabel(a.Environment)
	project, env := SplitInstance(a.Environment)
	facts := append([]notify.Fact{{Name: a.Rule, Value: a.Summary}, {Name: "State", Value: a.State + " since " + a.Since.UTC().Format(time.RFC3339)}},
		ackFacts(a.Ack)...)
	return notify.Message{
		ID:    fmt.Sprintf("alert-acknowledged-%s-%d", AlertID(a.Rule, a.Environment), ackAt(a, now).UnixMilli()),
		Event: "alert.acknowledged", Severity: a.Severity, Project: project, Environment: env, Alerts: []string{a.ID}, Time: now,
		Title: fmt.Sprintf("[%s] %s acknowledged by %s", where, a.Rule, a.Ack.By),
		Text:  a.Ack.Comment, Facts: facts,
	}
}

// ackAt is when a's acknowledgement was made, as stored (now for none):
// its message's ID, the same however often it is announced.
func ackAt(a Alert, now time.Time) time.Time {
	if a.Ack != nil && !a.Ack.At.IsZero() {
		return a.Ack.At
	}
	return now
}

// ackFacts are the lines a notification shows about an acknowledgement.
func ackFacts(ack *Ack) []notify.Fact {
	if ack == nil {
		return nil
	}
	v := ack.By + " at " + ack.At.UTC().Format(time.RFC3339)
	if ack.Comment != "" {
		v += ": " + ack.Comment
	}
	return []notify.Fact{{Name: "Acknowledged", Value: v}}
}

// acksOf reads the acknowledgements of the alerts that changed.
func (m *Monitor) acksOf(ctx context.Context, changes []transition) (map[alertKey]*Ack, error) {
	out := map[alertKey]*Ack{}
	for _, t := range changes {
		k := alertKey{t.alert.Rule, t.alert.Environment}
		var ack Ack
		var at int64
		err := m.opts.DB.QueryRowContext(ctx, `SELECT ack_by, ack_at, ack_comment FROM monitor_alerts WHERE rule = $1 AND environment = $2`,
			k.rule, k.env).Scan(&ack.By, &at, &ack.Comment)
		if errors.Is(err, sql.ErrNoRows) {
			continue // a new alert: never saved, never acknowledged
		}
		if err != nil {
			return nil, fmt.Errorf("monitor: acknowledgements: %w", err)
		}
		if ack.By != "" {
			ack.At = time.UnixMilli(at).UTC()
			out[k] = &ack
		}
	}
	return out, nil
}

// clearAck ends the acknowledgement of an alert that started a new episode
// at since (one made after that belongs to the new episode and stays).
func clearAck(ctx context.Context, tx *sql.Tx, a *Alert) error {
	_, err := tx.ExecContext(ctx, `UPDATE monitor_alerts SET ack_by = '', ack_at = 0, ack_comment = ''
		WHERE rule = $1 AND environment = $2 AND ack_at < $3`, a.Rule, a.Environment, a.Since.UnixMilli())
	return err
}
