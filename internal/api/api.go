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

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
	"github.com/phoenixvc/phoenix/internal/version"
)

// Pinger reports whether a dependency (the store, say) is healthy.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Options configures the API.
type Options struct {
	Logger *slog.Logger
	Store  Pinger // checked by /health
	// Storage, when set, is the server's storage check for /health: does
	// the store commit, do its folders take writes, how much room is left.
	Storage func(ctx context.Context) monitor.StorageHealth
	// Explain, when set, turns an internal error whose cause is no secret
	// and the operator's to fix (a full disk, an unreachable database)
	// into a user error saying so; WriteError asks it.
	Explain func(err error) error
	Started time.Time // server start, for uptime
	Deploy  *deploy.Service
	// Auth authenticates every request to a non-public endpoint; without
	// it those endpoints answer 401.
	Auth *auth.Service
	// Audit records denials and failed changes, and serves the audit
	// endpoints. AuditKey is its verifier key, shown by verify.
	Audit    *audit.Log
	AuditKey string
	// InsecureCookies drops the Secure flag and __Host- prefix of session
	// cookies, for plain-HTTP tests only.
	InsecureCookies bool
	// EdgeURL returns where an environment answers, for responses.
	EdgeURL func(project, env string) string
	// Vault serves the vault and secrets endpoints when set.
	Vault *vault.Vault
	// Pipeline serves releases, runs and workflow webhooks when set.
	Pipeline *pipeline.Service
	// Monitor serves status, alerts, silences and the public status page
	// when set.
	Monitor *monitor.Monitor
	// Certificates lists the TLS certificates the edge holds, for
	// /api/v1/certificates (served when set); CertWarning is when a
	// certificate counts as expiring (the monitor's alert).
	Certificates func(ctx context.Context) ([]certs.Info, error)
	CertWarning  time.Duration
	// OIDC, when set, serves single sign-on (/api/v1/login/oidc).
	OIDC *auth.OIDC
	// ConfigNeeds, when set, returns the environments besides a release's
	// own on which handing the server cfg (a release's phoenix.yaml) needs
	// deploy: every one of the project when cfg changes what the server
	// would do with production's secrets (notification channels).
	ConfigNeeds func(ctx context.Context, cfg *config.Config) ([]string, error)
	// Notifications, when set, returns what keeps each project's
	// notifications from their channels (keyed by project; a project whose
	// channels are all well is absent), for /api/v1/status.
	Notifications func(ctx context.Context) (map[string]NotifyHealth, error)
	// NotifyTest, when set, serves the test of a project's notification
	// channel (POST /api/v1/projects/{project}/channels/{channel}/test).
	NotifyTest NotifyTester
}

// API serves /api/v1.
type API struct {
	opts  Options
	mux   *http.ServeMux
	table []Route
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

func (a *API) routes() {
	groups := [][]Route{a.coreRoutes()}
	if a.opts.Auth != nil {
		groups = append(groups, a.authRoutes())
	}
	if a.opts.Auth != nil && a.opts.OIDC != nil {
		groups = append(groups, a.oidcRoutes())
	}
	if a.opts.Audit != nil {
		groups = append(groups, a.auditRoutes())
	}
	if a.opts.Deploy != nil {
		groups = append(groups, a.deployRoutes(), a.edgeRoutes())
	}
	if a.opts.Vault != nil {
		groups = append(groups, a.vaultRoutes(), a.vaultRekeyRoutes(), a.secretRoutes())
	}
	if a.opts.Pipeline != nil {
		groups = append(groups, a.pipelineRoutes())
	}
	if a.opts.Monitor != nil {
		groups = append(groups, a.monitorRoutes())
	}
	if a.opts.Certificates != nil {
		groups = append(groups, a.certificateRoutes())
	}
	if a.opts.NotifyTest != nil {
		groups = append(groups, a.notifyRoutes())
	}
	groups = append(groups, a.reportRoutes())
	for _, g := range groups {
		for _, rt := range g {
			a.add(rt)
		}
	}
	// Unknown endpoints answer 404 to callers with credentials, 401 to
	// the rest; this fallback is not part of the document.
	a.mux.Handle("/api/", a.guard(Route{Method: "ANY", Path: "/api/", AnyQuery: true, Handler: func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, usererr.New(usererr.NotFound, "no such endpoint: %s %s", r.Method, redactPath(r.URL.Path)).
			WithHint("see /api/v1/openapi.json for the endpoints"))
	}}))
}

// Handler returns the API with request ids, logging and panic recovery.
func (a *API) Handler() http.Handler {
	return requestID(recoverer(a.opts.Logger, logRequests(a.opts.Logger, withExplain(a.opts.Explain, a.mux))))
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	checks := map[string]string{}
	var disks []healthDisk
	if a.opts.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks["store"] = "ok"
		if err := a.opts.Store.PingContext(ctx); err != nil {
			checks["store"] = "unreachable"
			a.opts.Logger.Error("health: store ping failed", "err", err)
		} else if a.opts.Storage != nil {
			h := a.opts.Storage(ctx)
			if h.Store != "" {
				checks["store"] = h.Store
			}
			disks = healthDisks(h.Disks)
		}
		if checks["store"] != "ok" {
			status, code = "degraded", http.StatusServiceUnavailable
		}
	}
	WriteJSON(w, code, healthResponse{Status: status, Checks: checks, Disks: disks, Version: version.Version,
		UptimeSeconds: int64(time.Since(a.opts.Started).Seconds())})
}

// healthDisks is the room left in the server's folders, without their
// paths (the endpoint is public).
func healthDisks(ds []monitor.DiskSpace) []healthDisk {
	var out []healthDisk
	for _, d := range ds {
		if d.Error != "" {
			continue
		}
		out = append(out, healthDisk{Name: d.Name, FreeBytes: d.Free, TotalBytes: d.Total, FreePercent: d.FreePercent(), Low: d.Low})
	}
	return out
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
// with their detail and answered with a generic message, unless
// Options.Explain names their cause (a full disk: 503 saying so).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	kind := usererr.KindOf(err)
	if explain, ok := r.Context().Value(keyExplain).(func(error) error); ok && kind == usererr.Internal {
		err = explain(err)
		kind = usererr.KindOf(err)
	}
	body := Error{Code: kind.Code(), Message: err.Error(), Hint: usererr.HintOf(err), RequestID: RequestIDFrom(r.Context())}
	if kind == usererr.Internal {
		body.Message = "internal error; the server log has the details under this request id"
		loggerFrom(r.Context()).Error("request failed", "err", err, "request_id", body.RequestID)
	}
	if sw, ok := w.(*statusWriter); ok && sw.message == "" {
		sw.message = body.Message
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

// writeErrorStatus writes the error shape with a status usererr has no
// kind for (429).
func writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, code, msg, hint string) {
	WriteJSON(w, status, Error{Code: code, Message: msg, Hint: hint, RequestID: RequestIDFrom(r.Context())})
}
