package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestErrorsKeepTheRequestID: an internal error names the request id the
// server logged its details under; other errors are shown as sent, of the
// kind the body's code names (so the exit code is the server's verdict).
func TestErrorsKeepTheRequestID(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		kind       usererr.Kind
		want       string
	}{
		{"internal", `{"code":"internal","message":"internal error; the server log has the details under this request id","request_id":"3f2a9c"}`,
			500, usererr.Internal, "internal error (request id 3f2a9c): the server log has the details"},
		{"internal with its own message", `{"code":"internal","message":"backup failed","request_id":"3f2a9c"}`,
			500, usererr.Internal, "backup failed (request id 3f2a9c)"},
		{"internal without id", `{"code":"internal","message":"internal error; the server log has the details under this request id"}`,
			500, usererr.Internal, "internal error; the server log has the details under this request id"},
		{"not internal", `{"code":"not_found","message":"no project \"nope\"","request_id":"77"}`,
			404, usererr.NotFound, `no project "nope"`},
		{"no JSON", `<html>bad gateway</html>`, 502, usererr.Internal, "server answered 502 Bad Gateway"},
		{"invalid", `{"code":"invalid","message":"alert id \"nope\" is not RULE@ENVIRONMENT"}`,
			400, usererr.Invalid, `alert id "nope" is not RULE@ENVIRONMENT`},
		{"usage", `{"code":"usage","message":"--limit: want a whole number"}`, 400, usererr.Usage, "--limit: want a whole number"},
		{"rate limited", `{"code":"rate_limited","message":"too many sign-in attempts","request_id":"9c"}`,
			429, usererr.Unavailable, "too many sign-in attempts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			err := New(srv.URL, "").Do(context.Background(), "GET", Path("backups"), nil, nil)
			var ue *usererr.Error
			if !errors.As(err, &ue) || ue.Kind != tc.kind || ue.Message != tc.want {
				t.Fatalf("got %#v, want kind %v message %q", err, tc.kind, tc.want)
			}
		})
	}
}

// TestQueryRefusalIsShownAsSent: the API's refusal of a query parameter
// reaches the caller with the server's message and hint unchanged, as
// an invalid request (exit code 2 in the CLI).
func TestQueryRefusalIsShownAsSent(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Options{}).Handler())
	defer srv.Close()
	err := New(srv.URL, "").Do(context.Background(), "GET", Path("health")+"?verbose=true", nil, nil)
	var ue *usererr.Error
	if !errors.As(err, &ue) || ue.Kind != usererr.Invalid ||
		ue.Message != `unknown query parameter "verbose": GET /api/v1/health takes none` || ue.Hint != "leave the query string out" {
		t.Fatalf("got %#v", err)
	}
}
