package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EventTest is the event of a test message (phoenix notify test): a
// channel receives it when asked, whatever it subscribes to.
const EventTest = "notify.test"

// ErrNoChannel is Test's error for a key no channel has.
var ErrNoChannel = errors.New("notify: no such channel")

// Outcomes of a test message.
const (
	TestDelivered = "delivered" // the receiver took it
	TestRefused   = "refused"   // the receiver refused it for good: real messages fail the same way
	TestFailed    = "failed"    // it did not get through but may later (timeout, 5xx, 429): real messages are retried
)

// TestMessage is the message phoenix notify test sends to project's
// channel name on behalf of actor: informational, saying who sent it and
// that nothing needs doing.
func TestMessage(project, name, actor string) Message {
	return Message{Event: EventTest, Severity: Informational, Project: project,
		Title: fmt.Sprintf("Test message from Phoenix to %s's channel %s", project, name),
		Text:  fmt.Sprintf("%s sent this with phoenix notify test to check that the channel reaches you. Nothing needs doing.", actor),
		Facts: []Fact{{Name: "Channel", Value: name}, {Name: "Sent by", Value: actor}}}
}

// TestResult is what became of a test message: the receiver's answer.
type TestResult struct {
	Channel   string `json:"channel"` // the Dispatcher's key (PROJECT/NAME on a server)
	MessageID string `json:"message_id"`
	Outcome   string `json:"outcome"` // TestDelivered, TestRefused or TestFailed
	OK        bool   `json:"ok"`
	// HTTPStatus is the status code an HTTP receiver answered (Teams,
	// Slack, a webhook), 0 when there was none (email, no connection).
	HTTPStatus int `json:"http_status,omitempty"`
	// Error is the receiver's answer to a failure, or why it could not be
	// reached, scrubbed of the channel's URL and keys.
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
}

// Test sends m through the channel key at once, whatever the channel
// subscribes to, and returns the receiver's answer. The attempt goes into
// the delivery log like any message's, so a success counts as the
// channel's last one (it is off Failures, and the notify-undeliverable
// alert it had resolves) and a refusal as a failure; one that may pass
// (a timeout, a 5xx) is answered but not logged, as a real message would
// be retried. m.ID and m.Time are filled in when empty.
func (d *Dispatcher) Test(ctx context.Context, key string, m Message) (TestResult, error) {
	ch, ok := d.channel(key)
	if !ok {
		return TestResult{}, fmt.Errorf("%w: %s", ErrNoChannel, key)
	}
	if m.ID == "" {
		m.ID = "test-" + newID()
	}
	if m.Event == "" {
		m.Event = EventTest
	}
	start := d.opts.Now()
	if m.Time.IsZero() {
		m.Time = start.UTC()
	}
	ans := &answer{}
	err := d.send(withAnswer(ctx, ans), ch, m)
	res := TestResult{Channel: key, MessageID: m.ID, Outcome: TestDelivered, OK: err == nil, HTTPStatus: ans.status,
		At: m.Time, DurationMS: d.opts.Now().Sub(start).Milliseconds()}
	state := StateSent
	if err != nil {
		if ctx.Err() != nil {
			return TestResult{}, ctx.Err()
		}
		res.Error, res.Outcome, state = err.Error(), TestRefused, StateFailed
		if Retryable(err) {
			res.Outcome = TestFailed
			return res, nil
		}
	}
	payload, jerr := json.Marshal(m)
	if jerr != nil {
		return res, fmt.Errorf("notify: encode message: %w", jerr)
	}
	now := d.opts.Now().UnixMilli()
	_, dbErr := d.opts.DB.ExecContext(ctx, `INSERT INTO notify_deliveries
		(channel, message_id, event, severity, title, payload, state, attempts, next_at, created_at, sent_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11)`,
		key, m.ID, m.Event, m.Severity, m.Title, string(payload), state, now, start.UnixMilli(), now, res.Error)
	if dbErr != nil {
		return res, fmt.Errorf("notify: record test delivery: %w", dbErr)
	}
	return res, nil
}

// answer is what an attempt learnt of the receiver beyond its error.
type answer struct{ status int }

type answerKey struct{}

func withAnswer(ctx context.Context, a *answer) context.Context {
	return context.WithValue(ctx, answerKey{}, a)
}

// noteStatus records an HTTP receiver's status code for Test.
func noteStatus(ctx context.Context, status int) {
	if a, ok := ctx.Value(answerKey{}).(*answer); ok {
		a.status = status
	}
}
