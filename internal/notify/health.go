package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Failure is a channel whose messages stopped reaching it: its newest
// delivery that failed for good (refused, or retried until GiveUpAfter)
// with nothing delivered to it since.
type Failure struct {
	Channel string `json:"channel"` // the Dispatcher's key (PROJECT/NAME on a server)
	// The newest delivery that failed for good: when, which message, after
	// how many attempts, and the receiver's answer or the error, scrubbed
	// of the channel's URL and keys as everything in the log is.
	FailedAt  time.Time `json:"failed_at"`
	Event     string    `json:"event"`
	MessageID string    `json:"message_id"`
	Title     string    `json:"title"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	// Failed counts the deliveries that failed for good since the
	// channel's last success; Since is when the first of them failed.
	Failed int       `json:"failed"`
	Since  time.Time `json:"since"`
}

// Failures returns each configured channel whose last finished delivery
// failed for good, sorted by channel. A channel is off the list again as
// soon as a message reaches it; one no longer configured is not on it.
func (d *Dispatcher) Failures(ctx context.Context) ([]Failure, error) {
	rows, err := d.opts.DB.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries f
		WHERE state = 'failed' AND sent_at > COALESCE((SELECT MAX(s.sent_at) FROM notify_deliveries s
			WHERE s.channel = f.channel AND s.state = 'sent'), 0)
		ORDER BY sent_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("notify: failed deliveries: %w", err)
	}
	defer rows.Close()
	byChannel := map[string]*Failure{}
	for rows.Next() {
		del, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		if _, ok := d.channel(del.Channel); !ok {
			continue
		}
		f := byChannel[del.Channel]
		if f == nil {
			f = &Failure{Channel: del.Channel, FailedAt: del.SentAt, Event: del.Event, MessageID: del.MessageID,
				Title: del.Title, Attempts: del.Attempts, Error: del.LastError}
			byChannel[del.Channel] = f
		}
		f.Failed++
		f.Since = del.SentAt
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Failure, 0, len(byChannel))
	for _, f := range byChannel {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Failure) int { return strings.Compare(a.Channel, b.Channel) })
	return out, nil
}
