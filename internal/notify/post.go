package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultClient is the HTTP client channels use when given none: a 15 s
// limit per attempt, no redirects followed (a webhook that redirects is
// misconfigured, and following would resend the body elsewhere).
var DefaultClient = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// PostJSON posts body to the secret URL target. Errors name channel and
// never contain the URL; their Retryable tells whether to try again.
func PostJSON(ctx context.Context, client *http.Client, channel, target string, body []byte, header http.Header) error {
	if client == nil {
		client = DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(Redact(errors.New(channel+": the webhook URL is not valid (hint: check the secret that holds it)"), target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "phoenix-notify/1")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return Temporary(Redact(transportError(channel, err), target))
	}
	defer resp.Body.Close()
	noteStatus(ctx, resp.StatusCode)
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return Permanent(errors.New(channel + ": receiver answered with a redirect (hint: use the final webhook URL)"))
	}
	return Redact(StatusError(channel, resp.StatusCode, strings.TrimSpace(string(snippet))), target)
}

// transportError describes a failed request without the URL (url.Error
// prints it) and without the address.
func transportError(channel string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return errors.New(channel + ": receiver did not answer in time")
	case errors.Is(err, context.Canceled):
		return errors.New(channel + ": canceled")
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return errors.New(channel + ": cannot reach the receiver: " + oe.Op + ": " + innermost(oe).Error())
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return errors.New(channel + ": cannot resolve the receiver's host name")
	}
	return errors.New(channel + ": request failed: " + innermost(err).Error())
}

func innermost(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// Redact returns err with every occurrence of the secrets (and of their URL
// path, query and host, for URLs) replaced by "[redacted]", keeping whether
// it is retryable.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := RedactString(msg, secrets...)
	if clean == msg {
		return err
	}
	return &DeliveryError{Retry: Retryable(err), Err: errors.New(clean)}
}

// RedactString replaces the secrets, and the parts of secret URLs that
// could identify them, with "[redacted]".
func RedactString(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		parts := []string{sec}
		if u, err := url.Parse(sec); err == nil && u.Host != "" {
			parts = append(parts, u.Host+u.EscapedPath(), u.RawQuery, u.EscapedPath(), u.Host)
		}
		for _, p := range parts {
			if len(p) >= 4 && p != "/" {
				s = strings.ReplaceAll(s, p, "[redacted]")
			}
		}
	}
	return s
}

// MarshalJSON encodes v without HTML escaping (<, > and & stay readable in
// the cards receivers render) and without a trailing newline.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
