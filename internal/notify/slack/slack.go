// Package slack sends messages to a Slack incoming webhook: a plain-text
// fallback plus a coloured attachment holding Block Kit blocks (header,
// text, facts as fields, link buttons).
package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// Options configure a Notifier.
type Options struct {
	URL    string       // the incoming webhook URL: a secret
	Client *http.Client // default notify.DefaultClient
}

// Notifier posts to one Slack incoming webhook.
type Notifier struct{ opts Options }

// New returns a Notifier.
func New(o Options) (*Notifier, error) {
	if strings.TrimSpace(o.URL) == "" {
		return nil, errors.New("slack: the webhook URL is empty (hint: phoenix secret set NAME, then url: secret:NAME)")
	}
	return &Notifier{opts: o}, nil
}

// Notify posts m.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) error {
	body, err := Payload(m)
	if err != nil {
		return notify.Permanent(err)
	}
	return notify.Redact(notify.PostJSON(ctx, n.opts.Client, "slack", n.opts.URL, body, nil), n.opts.URL)
}

// escape makes s safe inside Slack mrkdwn.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func color(m notify.Message) string {
	if m.Resolved() {
		return "#2EB886"
	}
	if m.Acknowledged() {
		return "#0078D4"
	}
	return [...]string{"#D13438", "#E97548", "#FFB900", "#0078D4", "#8A8886"}[min(max(m.Severity, 0), 4)]
}

// maxButtons is how many link buttons a message shows; more fold into its
// text (notify.SplitLinks).
const maxButtons = 5

// Payload renders m as a Slack webhook body.
func Payload(m notify.Message) ([]byte, error) {
	sev := m.Label()
	ctx := sev
	if m.Event != "" {
		ctx += " · " + m.Event
	}
	if where := strings.Trim(m.Project+"/"+m.Environment, "/"); where != "" {
		ctx += " · " + where
	}
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(m.Title, 150)}},
		map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": escape(ctx)}}},
	}
	if m.Text != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": clip(escape(m.Text), 3000)}})
	}
	if len(m.Facts) > 0 {
		var fields []any
		for i, f := range m.Facts {
			if i == 10 { // Slack allows 10 fields per section
				break
			}
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": clip("*"+escape(f.Name)+"*\n"+escape(f.Value), 2000)})
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	shown, folded := notify.SplitLinks(m.Links, maxButtons)
	if len(folded) > 0 {
		text := "*" + notify.FoldedTitle(folded) + "*\n" + notify.FoldLines(folded, func(l notify.Link) string {
			return "• <" + l.URL + "|" + strings.NewReplacer("|", "", ">", "").Replace(escape(clip(l.Title, 75))) + ">"
		})
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": clip(text, 3000)}})
	}
	if len(shown) > 0 {
		var buttons []any
		for _, l := range shown {
			buttons = append(buttons, map[string]any{"type": "button", "url": l.URL,
				"text": map[string]any{"type": "plain_text", "text": clip(l.Title, 75)}})
		}
		blocks = append(blocks, map[string]any{"type": "actions", "elements": buttons})
	}
	return notify.MarshalJSON(map[string]any{
		"text":        clip(sev+": "+m.Title, 3000),
		"attachments": []any{map[string]any{"color": color(m), "blocks": blocks}},
	})
}
