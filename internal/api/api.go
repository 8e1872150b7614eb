// Package api is Phoenix's REST API under /api/v1: the surface the CLI, the
// dashboard and scripts use. Handlers decode requests, call the domains and
// encode responses; every error goes out in one shape,
// {code, message, hint, request_id}, with its status chosen by usererr.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/version"
)

// Pinger reports whether a dependency (the store, say) is healthy.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Options configures the API.
type Options struct {
	Logger  *slog.Logger
	Store   Pinger    // checked by /health
	Started time.Time // server start, for uptime
	Deploy  *deploy.Service
	// Token is the bearer token every endpoint but health and version
	// requires. Users and scoped tokens replace it with the auth domain.
	Token string
	// EdgeURL returns where an environment answers, for responses.
	EdgeURL func(project, env string) string
}

// API serves /api/v1.
type API struct {
	opts Options
	mux  *http.ServeMux
}

// New returns the API with all its routes registered.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{opts: opts, mux: http.NewServeMux()}
	a.routes()
	return a
}

// Handle registers an extra route, for domains wired in by the app.
func (a *API) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

func (a *API) routes() {
	a.mux.HandleFunc("GET /api/v1/health", a.health)
	a.mux.HandleFunc("GET /api/v1/version", a.version)
	if a.opts.Deploy != nil {
		a.deployRoutes()
	}
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, usererr.New(usererr.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path).
			WithHint("see /api/v1/openapi.json for the endpoints"))
	})
}

// Handler returns the API with request ids, logging and panic recovery.
func (a *API) Handler() http.Handler {
	return requestID(recoverer(a.opts.Logger, logRequests(a.opts.Logger, a.authenticate(a.mux))))
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	checks := map[string]string{}
	if a.opts.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.opts.Store.PingContext(ctx); err != nil {
			status, code = "degraded", http.StatusServiceUnavailable
			checks["store"] = "unreachable"
			a.opts.Logger.Error("health: store ping failed", "err", err)
		} else {
			checks["store"] = "ok"
		}
	}
	WriteJSON(w, code, map[string]any{
		"status":         status,
		"checks":         checks,
		"version":        version.Version,
		"uptime_seconds": int64(time.Since(a.opts.Started).Seconds()),
	})
}

func (a *API) version(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, version.Get())
}

// Error is the one error shape of the API.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Hint      string `json:"hint,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError writes err in the API's error shape. Internal errors are logged
// with their detail and answered with a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	kind := usererr.KindOf(err)
	body := Error{Code: kind.Code(), Message: err.Error(), Hint: usererr.HintOf(err), RequestID: RequestIDFrom(r.Context())}
	if kind == usererr.Internal {
		body.Message = "internal error; the server log has the details under this request id"
		loggerFrom(r.Context()).Error("request failed", "err", err, "request_id", body.RequestID)
	}
	WriteJSON(w, usererr.HTTPStatus(err), body)
}

// WriteJSON writes v as JSON with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
