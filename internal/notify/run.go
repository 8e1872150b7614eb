package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Delivery is one row of the delivery log.
type Delivery struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"`
	MessageID string    `json:"message_id"`
	Event     string    `json:"event"`
	Severity  int       `json:"severity"`
	Title     string    `json:"title"`
	State     string    `json:"state"` // pending, sent, failed
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`

	payload string
}

// Delivery states.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateFailed  = "failed"
)

const deliveryColumns = `id, channel, message_id, event, severity, title, payload, state, attempts, next_at, created_at, sent_at, last_error`

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, created int64
	var sent sql.NullInt64
	err := row.Scan(&d.ID, &d.Channel, &d.MessageID, &d.Event, &d.Severity, &d.Title, &d.payload, &d.State,
		&d.Attempts, &next, &created, &sent, &d.LastError)
	d.NextAt, d.CreatedAt = time.UnixMilli(next).UTC(), time.UnixMilli(created).UTC()
	if sent.Valid {
		d.SentAt = time.UnixMilli(sent.Int64).UTC()
	}
	if d.State != StatePending {
		d.NextAt = time.Time{}
	}
	return d, err
}

// Deliveries lists the log, newest first; state "" lists all.
func (d *Dispatcher) Deliveries(ctx context.Context, state string, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.opts.DB.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE ($1 = '' OR state = $1) ORDER BY id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		del, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, del)
	}
	return out, rows.Err()
}

// RunDue attempts every pending delivery whose time has come and returns
// how many it attempted. Run calls it; tests call it with an injected clock.
func (d *Dispatcher) RunDue(ctx context.Context) (int, error) {
	d.run.Lock()
	defer d.run.Unlock()
	now := d.opts.Now()
	rows, err := d.opts.DB.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT 500`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("notify: due deliveries: %w", err)
	}
	var due []Delivery
	for rows.Next() {
		del, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, del)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// An alert's messages go in order: one with an older message of the
	// same alert still pending on its channel is held until that one is
	// done (held, below).
	var ready, held []Delivery
	for _, del := range due {
		if _, waits, err := d.waitsFor(ctx, del); err != nil {
			return 0, err
		} else if waits {
			held = append(held, del)
		} else {
			ready = append(ready, del)
		}
	}
	sem := make(chan struct{}, d.opts.Parallel)
	var wg sync.WaitGroup
	errs := make([]error, len(ready))
	for i := range ready {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = d.attempt(ctx, &ready[i])
		}()
	}
	wg.Wait()
	n, err := d.runHeld(ctx, held)
	return len(ready) + n, errors.Join(append(errs, err)...)
}

// runHeld attempts, in order, the deliveries that waited for an older one
// of their alert: each whose older one is done now, the others wait on
// until it is due again, so a resolution never reaches a channel before
// the firing it ends.
func (d *Dispatcher) runHeld(ctx context.Context, held []Delivery) (int, error) {
	n := 0
	for i := range held {
		older, waits, err := d.waitsFor(ctx, held[i])
		switch {
		case err != nil:
			return n, err
		case waits:
			_, err = d.opts.DB.ExecContext(ctx, `UPDATE notify_deliveries SET next_at = $1 WHERE id = $2`,
				max(older.NextAt.UnixMilli(), held[i].NextAt.UnixMilli()), held[i].ID)
		default:
			n++
			err = d.attempt(ctx, &held[i])
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// waitsFor returns the oldest delivery still pending on del's channel
// that was made before del about one of the alerts del is about, and
// whether there is one. A delivery of no alert waits for nothing.
func (d *Dispatcher) waitsFor(ctx context.Context, del Delivery) (Delivery, bool, error) {
	var m Message
	if !strings.HasPrefix(del.Event, "alert.") || json.Unmarshal([]byte(del.payload), &m) != nil || len(m.Alerts) == 0 {
		return Delivery{}, false, nil
	}
	rows, err := d.opts.DB.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE channel = $1 AND state = 'pending' AND id < $2 AND event LIKE 'alert.%' ORDER BY id`, del.Channel, del.ID)
	if err != nil {
		return Delivery{}, false, fmt.Errorf("notify: older deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		older, err := scanDelivery(rows)
		if err != nil {
			return Delivery{}, false, err
		}
		var om Message
		if json.Unmarshal([]byte(older.payload), &om) == nil && slices.ContainsFunc(om.Alerts, func(id string) bool { return slices.Contains(m.Alerts, id) }) {
			return older, true, nil
		}
	}
	return Delivery{}, false, rows.Err()
}

// attempt sends one delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, del *Delivery) error {
	var m Message
	if err := json.Unmarshal([]byte(del.payload), &m); err != nil {
		return d.finish(ctx, del, StateFailed, fmt.Errorf("stored message is unreadable: %w", err))
	}
	ch, ok := d.channel(del.Channel)
	if !ok {
		return d.finish(ctx, del, StateFailed, fmt.Errorf("channel %s is no longer configured", del.Channel))
	}
	err := d.send(ctx, ch, m)
	if err == nil {
		return d.finish(ctx, del, StateSent, nil)
	}
	if ctx.Err() != nil {
		return nil // shutting down: the delivery stays pending for the next start
	}
	del.Attempts++
	age := d.opts.Now().Sub(del.CreatedAt)
	if !Retryable(err) || age >= d.opts.GiveUpAfter {
		d.opts.Logger.Error("notify: delivery failed for good", "channel", del.Channel, "event", del.Event,
			"attempts", del.Attempts, "error", err.Error())
		return d.finish(ctx, del, StateFailed, err)
	}
	wait := d.opts.Backoff.Delay(del.Attempts)
	d.opts.Logger.Warn("notify: delivery failed, will retry", "channel", del.Channel, "event", del.Event,
		"attempts", del.Attempts, "retry_in", wait.String(), "error", err.Error())
	_, dbErr := d.opts.DB.ExecContext(ctx, `UPDATE notify_deliveries SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4`,
		del.Attempts, d.opts.Now().Add(wait).UnixMilli(), err.Error(), del.ID)
	return dbErr
}

// send delivers m through ch within the dispatcher's timeout; a failure
// comes back scrubbed of the channel's URL and keys. Deliveries and Test
// send through it.
func (d *Dispatcher) send(ctx context.Context, ch Channel, m Message) error {
	actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	if err := ch.Notifier.Notify(actx, m); err != nil {
		return Redact(err, ch.Secrets...)
	}
	return nil
}

func (d *Dispatcher) finish(ctx context.Context, del *Delivery, state string, cause error) error {
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	attempts := del.Attempts
	if state == StateSent {
		attempts++
	}
	_, err := d.opts.DB.ExecContext(ctx, `UPDATE notify_deliveries SET state = $1, attempts = $2, sent_at = $3, last_error = $4 WHERE id = $5`,
		state, attempts, d.opts.Now().UnixMilli(), msg, del.ID)
	if err != nil {
		return fmt.Errorf("notify: record delivery %d: %w", del.ID, err)
	}
	return nil
}

// nextDue returns when the earliest pending delivery is due, or false.
func (d *Dispatcher) nextDue(ctx context.Context) (time.Time, bool) {
	var next sql.NullInt64
	err := d.opts.DB.QueryRowContext(ctx, `SELECT MIN(next_at) FROM notify_deliveries WHERE state = 'pending'`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false
	}
	return time.UnixMilli(next.Int64), true
}

// Run sends due deliveries until ctx ends: at once when Publish kicks it,
// and when the next retry falls due.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if _, err := d.RunDue(ctx); err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("notify: send due deliveries", "error", err.Error())
		}
		wait := time.Minute
		if next, ok := d.nextDue(ctx); ok {
			wait = max(next.Sub(d.opts.Now()), 10*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.kick:
		case <-t.C:
		}
		t.Stop()
	}
}
