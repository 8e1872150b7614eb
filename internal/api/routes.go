package api

import (
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// Route is one endpoint: how it is served, who may call it, and what the
// OpenAPI document says about it. The route table is the one source of
// both the mux and the document, so they cannot drift apart.
type Route struct {
	Method  string
	Path    string // ServeMux pattern path, e.g. /api/v1/projects/{project}/environments
	Summary string
	Tag     string
	// Public routes need no credentials. Every other route needs a valid
	// token or session, and Perm when it is set.
	Public bool
	Perm   auth.Permission
	// Resource is what Perm is checked on; nil takes the {project} and
	// {env} path values for per-environment permissions.
	Resource func(r *http.Request) (auth.Resource, error)
	// Missing, when set, documents the 404 answer: what the path names
	// does not exist, or the caller may not see it (the same answer).
	Missing string
	// Action names the change in the audit log when the request fails
	// (successful changes are recorded by the domains themselves).
	Action string
	// Query are the query parameters the route accepts: any other is
	// refused with 400 before the handler runs (checkQuery), and a route
	// without any refuses every one.
	Query []Param
	// AnyQuery routes are called by senders outside Phoenix, which may add
	// parameters of their own (an identity provider's callback, a
	// webhook, the public status page's links and badges): their query
	// string is not checked, and Query only documents what they read.
	AnyQuery bool
	Request  any // body type, for the document
	Response any // success body type, for the document
	Status   int // success status (default 200)
	// Limited routes answer 429 with Retry-After past a rate limit (the
	// sign-ins, the webhooks).
	Limited bool
	Handler http.HandlerFunc
}

// Pattern is the ServeMux pattern of the route.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

func (rt Route) status() int {
	if rt.Status == 0 {
		return http.StatusOK
	}
	return rt.Status
}

// pathParams returns the {names} in the route's path.
func (rt Route) pathParams() []string {
	var out []string
	for _, seg := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

// Routes returns the registered routes, in registration order.
func (a *API) Routes() []Route { return append([]Route(nil), a.table...) }

// Handle registers an extra route, for domains wired in by the app. It
// goes through the same authorization and into the OpenAPI document.
func (a *API) Handle(rt Route) { a.add(rt) }

func (a *API) add(rt Route) {
	a.table = append(a.table, rt)
	a.mux.Handle(rt.Pattern(), a.guard(rt))
}

func (a *API) coreRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/health", Tag: "server", Public: true, Summary: "Health of the server and its store",
			Response: healthResponse{}, Handler: a.health},
		{Method: "GET", Path: "/api/v1/version", Tag: "server", Public: true, Summary: "Version of the server binary",
			Response: map[string]string{}, Handler: a.version},
		{Method: "GET", Path: "/api/v1/openapi.json", Tag: "server", Public: true, Summary: "This API as an OpenAPI 3 document",
			Response: map[string]any{}, Handler: a.openapi},
	}
}

type healthResponse struct {
	Status        string            `json:"status"`
	Checks        map[string]string `json:"checks"`
	Disks         []healthDisk      `json:"disks,omitempty"`
	Version       string            `json:"version"`
	UptimeSeconds int64             `json:"uptime_seconds"`
}

// healthDisk is the room left in one of the server's folders.
type healthDisk struct {
	Name        string  `json:"name"` // "data dir", "blob dir"
	FreeBytes   uint64  `json:"free_bytes"`
	TotalBytes  uint64  `json:"total_bytes"`
	FreePercent float64 `json:"free_percent"`
	Low         bool    `json:"low,omitempty"` // under the server's --disk-alert-free
}
