// Package notify delivers messages (deployment results, alerts) to the
// places a team reads: Microsoft Teams, Slack, generic signed webhooks and
// email. Every channel implements one small interface, Notifier; errors say
// whether another attempt is worthwhile. The Dispatcher keeps a delivery
// log in the database and retries with exponential backoff, so a receiver
// that is down for a while loses nothing.
//
// Webhook URLs are secrets (whoever has one can post to the channel): they
// never appear in errors, logs or the delivery log. Channels return errors
// built with Redact, which strips them.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Notifier sends one message to one destination.
type Notifier interface {
	// Notify delivers m. A returned error tells, through Retryable, whether
	// sending the same message again later may succeed.
	Notify(ctx context.Context, m Message) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m Message) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m Message) error { return f(ctx, m) }

// Severity levels, as in Azure Monitor: 0 is the most urgent.
const (
	Critical      = 0
	Error         = 1
	Warning       = 2
	Informational = 3
	Verbose       = 4
)

// SeverityName returns "critical", "error", "warning", "info" or "verbose".
func SeverityName(s int) string {
	switch s {
	case Critical:
		return "critical"
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Informational:
		return "info"
	}
	return "verbose"
}

// Message is what a channel renders: a title, a short text, facts shown as a
// table and links shown as buttons.
type Message struct {
	// ID identifies the message; the delivery log sends each (channel, ID)
	// once. Empty IDs are filled in by the Dispatcher.
	ID          string    `json:"id"`
	Event       string    `json:"event"` // e.g. alert.firing, deploy.rolled_back
	Severity    int       `json:"severity"`
	Title       string    `json:"title"`
	Text        string    `json:"text,omitempty"`
	Project     string    `json:"project,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Alerts      []string  `json:"alerts,omitempty"` // an alert.* message's alert IDs, as 'phoenix alerts ack' takes them
	Facts       []Fact    `json:"facts,omitempty"`
	Links       []Link    `json:"links,omitempty"`
	Time        time.Time `json:"time"`
}

// Fact is a name/value pair shown in a table.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Link is a button that opens a URL.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Events that are labelled by what happened rather than by severity.
const (
	EventResolved     = "alert.resolved"
	EventAcknowledged = "alert.acknowledged"
)

// Resolved reports whether m announces that an alert is over. A success
// (deploy.succeeded, backup.succeeded) resolves nothing: it is news,
// labelled by its severity (informational).
func (m Message) Resolved() bool { return m.Event == EventResolved }

// Acknowledged reports whether m says someone is on an alert: neither an
// alarm nor an all-clear.
func (m Message) Acknowledged() bool { return m.Event == EventAcknowledged }

// Label is the word every channel shows before a message: RESOLVED for an
// alert's resolution, ACKNOWLEDGED for an acknowledgement, otherwise the
// severity's name in capitals (CRITICAL, ERROR, WARNING, INFO, VERBOSE).
func (m Message) Label() string {
	switch {
	case m.Resolved():
		return "RESOLVED"
	case m.Acknowledged():
		return "ACKNOWLEDGED"
	}
	return strings.ToUpper(SeverityName(m.Severity))
}

// DeliveryError is a failed delivery: Retry says whether trying again later
// may succeed (the receiver was down, slow or rate limiting).
type DeliveryError struct {
	Retry bool
	Err   error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Temporary wraps err as worth retrying.
func Temporary(err error) error { return &DeliveryError{Retry: true, Err: err} }

// Permanent wraps err as not worth retrying (a bad request, a revoked URL).
func Permanent(err error) error { return &DeliveryError{Retry: false, Err: err} }

// Retryable reports whether err is worth another attempt. Errors that do not
// say are treated as temporary, except context cancellation.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Retry
	}
	return !errors.Is(err, context.Canceled)
}

// StatusError classifies an HTTP answer: 408, 425, 429 and 5xx are worth
// retrying, other 4xx are not. It returns nil for 2xx.
func StatusError(channel string, status int, body string) error {
	if status >= 200 && status < 300 {
		return nil
	}
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	err := fmt.Errorf("%s: receiver answered %d %s", channel, status, body)
	switch {
	case status == 408 || status == 425 || status == 429 || status >= 500:
		return Temporary(err)
	case status == 404 || status == 410:
		return Permanent(fmt.Errorf("%w (hint: the webhook URL was deleted or is wrong; store the new one with phoenix secret set)", err))
	}
	return Permanent(err)
}
