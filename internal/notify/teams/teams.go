// Package teams sends messages to Microsoft Teams, in the two shapes teams
// use: a Workflows (Power Automate) webhook taking an Adaptive Card 1.4
// wrapped as {"type":"message","attachments":[...]}, and the legacy Office
// 365 connector taking a MessageCard with themeColor, facts and
// potentialAction buttons.
package teams

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// Formats of the payload.
const (
	Workflows   = "workflows"   // Adaptive Card via a Workflows webhook (default)
	MessageCard = "messagecard" // legacy connector card
)

// Options configure a Notifier.
type Options struct {
	URL    string       // the webhook URL: a secret
	Format string       // Workflows (default) or MessageCard
	Client *http.Client // default notify.DefaultClient
}

// Notifier posts to one Teams webhook.
type Notifier struct{ opts Options }

// New returns a Notifier; it fails on an unknown format or a missing URL,
// without ever printing the URL.
func New(o Options) (*Notifier, error) {
	if o.Format == "" {
		o.Format = Workflows
	}
	if o.Format != Workflows && o.Format != MessageCard {
		return nil, errors.New("teams: format must be workflows or messagecard")
	}
	if strings.TrimSpace(o.URL) == "" {
		return nil, errors.New("teams: the webhook URL is empty (hint: phoenix secret set NAME, then url: secret:NAME)")
	}
	return &Notifier{opts: o}, nil
}

// Notify posts m.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) error {
	body, err := Payload(n.opts.Format, m)
	if err != nil {
		return notify.Permanent(err)
	}
	err = notify.PostJSON(ctx, n.opts.Client, "teams", n.opts.URL, body, nil)
	return notify.Redact(err, n.opts.URL)
}

// Payload renders m in the given format.
func Payload(format string, m notify.Message) ([]byte, error) {
	if format == MessageCard {
		return notify.MarshalJSON(messageCard(m))
	}
	return notify.MarshalJSON(map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     AdaptiveCard(m),
		}},
	})
}

// Colors by severity (hex, as MessageCard themeColor wants).
func themeColor(m notify.Message) string {
	if m.Resolved() {
		return "2EB886"
	}
	if m.Acknowledged() {
		return "0078D4"
	}
	return [...]string{"D13438", "E97548", "FFB900", "0078D4", "8A8886"}[clampSeverity(m.Severity)]
}

// textColor maps severity to an Adaptive Card TextBlock color.
func textColor(m notify.Message) string {
	if m.Resolved() {
		return "good"
	}
	if m.Acknowledged() {
		return "accent"
	}
	return [...]string{"attention", "attention", "warning", "accent", "default"}[clampSeverity(m.Severity)]
}

func clampSeverity(s int) int { return min(max(s, 0), 4) }

// limit keeps text within what Teams accepts (the whole payload must stay
// under about 28 KB).
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func subtitle(m notify.Message) string {
	parts := []string{m.Label()}
	if m.Event != "" {
		parts = append(parts, m.Event)
	}
	if m.Project != "" || m.Environment != "" {
		parts = append(parts, strings.Trim(m.Project+"/"+m.Environment, "/"))
	}
	if !m.Time.IsZero() {
		parts = append(parts, m.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return strings.Join(parts, " · ")
}
