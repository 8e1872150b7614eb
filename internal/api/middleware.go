package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyExplain
)

// withExplain hands WriteError the API's Options.Explain through the
// request's context (WriteError is a function, called from everywhere).
func withExplain(explain func(error) error, next http.Handler) http.Handler {
	if explain == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyExplain, explain)))
	})
}

// RequestIDFrom returns the request id the API assigned, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// requestID gives every request an id, echoed in X-Request-Id. A client's
// own id is kept when it is short and printable, so traces can be joined.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !printableID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

func printableID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

type statusWriter struct {
	http.ResponseWriter
	status int
	// message is the error WriteError answered with, for the audit
	// record of a failed change.
	message string
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := log.With("request_id", RequestIDFrom(r.Context()))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), keyLogger, l)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		// The path only: query strings may carry tokens and are never logged.
		l.Debug("api request", "method", r.Method, "path", redactPath(r.URL.Path), "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic in handler", "panic", p, "path", redactPath(r.URL.Path), "request_id", RequestIDFrom(r.Context()))
				WriteError(w, r, usererr.New(usererr.Internal, "panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
