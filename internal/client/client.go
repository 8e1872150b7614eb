// Package client is the Go client of Phoenix's REST API, the one way the
// CLI talks to a server (in-process or remote). Errors from the server come
// back as *usererr.Error with the server's message and hint, so exit codes
// match the server's verdict.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Client calls one Phoenix server.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the server at base (e.g. http://127.0.0.1:7070).
func New(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token,
		http: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
			MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}}}
}

// apiError is the server's error shape.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Hint      string `json:"hint"`
	RequestID string `json:"request_id"`
}

// Do sends a request with an optional JSON (or raw) body and decodes a JSON
// answer into out (when not nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.send(ctx, method, path, body, -1, "application/json", out)
}

// send is Do with a raw body of known length (-1: let net/http decide).
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, length int64, ctype string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if length >= 0 {
		req.ContentLength = length
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return usererr.Wrap(usererr.Unavailable, err, fmt.Sprintf("cannot reach the phoenix server at %s", c.base)).
			WithHint("is 'phoenix server' running? check --server / PHOENIX_SERVER")
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	var e apiError
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Message == "" {
		e.Message = fmt.Sprintf("server answered %s", resp.Status)
	}
	kind := usererr.KindFromAPI(resp.StatusCode, e.Code)
	ue := usererr.New(kind, "%s", withRequestID(kind, e))
	ue.Hint = e.Hint
	return ue
}

// withRequestID is the message of an internal error with the request id
// the server logged its details under ("internal error (request id
// 3f2a…): the server log has the details").
func withRequestID(kind usererr.Kind, e apiError) string {
	switch {
	case kind != usererr.Internal || e.RequestID == "":
		return e.Message
	case strings.HasPrefix(e.Message, "internal error;"):
		return fmt.Sprintf("internal error (request id %s): the server log has the details", e.RequestID)
	default:
		return fmt.Sprintf("%s (request id %s)", e.Message, e.RequestID)
	}
}

// Path joins escaped segments into an API path under /api/v1.
func Path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
