package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestPanicLogKeepsPastedNamesOut: a handler's panic is logged with the
// request's path as every request's is, a secret name not in the usual
// style (a token pasted as a name) by its fingerprint, not as sent.
func TestPanicLogKeepsPastedNamesOut(t *testing.T) {
	var log testkit.LogBuffer
	h := recoverer(slog.New(slog.NewTextHandler(&log, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	const pasted = "ghp_PastedTokenValue0123456789abcdefABCD"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/secrets/"+pasted+"/value", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(log.String(), "panic in handler") {
		t.Fatalf("status %d, log %q", rec.Code, log.String())
	}
	if strings.Contains(log.String(), pasted) {
		t.Fatalf("the panic log holds the pasted name: %s", log.String())
	}
}
