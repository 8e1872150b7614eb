// Package webhook posts messages as JSON to any HTTP endpoint, signed with
// HMAC-SHA256 so the receiver can tell they come from Phoenix:
//
//	X-Phoenix-Signature: sha256=<hex of HMAC-SHA256(secret, body)>
//	X-Phoenix-Event:     alert.firing
//	X-Phoenix-Delivery:  <message id>
//
// The body carries the message's time, the same in every retry (for up to
// 24 hours): receivers refuse replays by the delivery id, not by age.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// Header names.
const (
	SignatureHeader = "X-Phoenix-Signature"
	EventHeader     = "X-Phoenix-Event"
	DeliveryHeader  = "X-Phoenix-Delivery"
)

// Options configure a Notifier.
type Options struct {
	URL    string       // target; treated as a secret
	Secret string       // HMAC key; empty sends unsigned bodies
	Client *http.Client // default notify.DefaultClient
}

// Notifier posts to one URL.
type Notifier struct{ opts Options }

// New returns a Notifier.
func New(o Options) (*Notifier, error) {
	if strings.TrimSpace(o.URL) == "" {
		return nil, errors.New("webhook: the URL is empty")
	}
	return &Notifier{opts: o}, nil
}

// Body is the JSON posted: the message plus a format version.
type Body struct {
	Version int `json:"version"` // 1
	notify.Message
}

// Notify posts m, signed.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) error {
	body, err := json.Marshal(Body{Version: 1, Message: m})
	if err != nil {
		return notify.Permanent(err)
	}
	h := http.Header{}
	h.Set(EventHeader, m.Event)
	h.Set(DeliveryHeader, m.ID)
	if n.opts.Secret != "" {
		h.Set(SignatureHeader, Sign(n.opts.Secret, body))
	}
	return notify.Redact(notify.PostJSON(ctx, n.opts.Client, "webhook", n.opts.URL, body, h), n.opts.URL, n.opts.Secret)
}

// Sign returns the X-Phoenix-Signature value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is the signature of body under secret, in
// constant time. Receivers written in Go can use it.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}
