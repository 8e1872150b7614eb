package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// refused sends a request as who that must be refused with 400 invalid,
// and returns the error.
func (f *fixture) refused(t *testing.T, who, method, path string) Error {
	t.Helper()
	status, body, _ := f.call(who, method, path, nil)
	var e Error
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusBadRequest || e.Code != "invalid" {
		t.Fatalf("%s %s: want a 400 invalid, got %d %s", method, path, status, body)
	}
	return e
}

// TestQueryParametersOfEveryRoute: on every route that accepts query
// parameters, a mistyped one is refused with 400 naming it, the one it
// most likely meant and those the route accepts, and a request giving
// every parameter the route declares is served. The table must cover
// every such route, so that a new one is added here.
func TestQueryParametersOfEveryRoute(t *testing.T) {
	f := newFixture(t)
	env := "/api/v1/projects/shop/environments/staging"
	tests := []struct {
		pattern, path, typo, meant, known string
	}{
		{"GET /api/v1/users", "/api/v1/users", "limt", "limit", "limit=1&cursor=admin"},
		{"GET /api/v1/tokens", "/api/v1/tokens", "al", "all", "all=true&limit=5&cursor="},
		{"GET /api/v1/audit", "/api/v1/audit", "acion", "action", "order=desc&since=24h&actor=admin&action=token.*&limit=2&cursor="},
		{"GET /api/v1/audit/export", "/api/v1/audit/export", "snce", "since", "since=7d&actor=admin&action=token.*"},
		{"GET /api/v1/projects", "/api/v1/projects", "cursr", "cursor", "limit=1&cursor="},
		{"GET /api/v1/projects/{project}/environments/{env}/deployments", env + "/deployments", "limits", "limit", "limit=1&cursor="},
		{"GET /api/v1/projects/{project}/environments/{env}/activations", env + "/activations", "curser", "cursor", "limit=1&cursor="},
		{"GET /api/v1/vault/expiring", "/api/v1/vault/expiring", "withn", "within", "within=30d"},
		{"GET /api/v1/secrets", "/api/v1/secrets", "delete", "deleted", "deleted=false&match=MATRIX_*"},
		{"DELETE /api/v1/secrets/{name}", "/api/v1/secrets/" + f.deleted("QP"), "purg", "purge", "purge=true"},
		{"GET /api/v1/secrets/{name}/value", "/api/v1/secrets/MATRIX_KEY/value", "versoin", "version", "version=1"},
		{"GET /api/v1/runs", "/api/v1/runs", "stauts", "status", "project=shop&status=succeeded&limit=1&cursor="},
		{"GET /api/v1/runs/{id}/logs", "/api/v1/runs/" + strconv.FormatInt(f.done, 10) + "/logs", "setp", "step", "step=main/ok&follow=false"},
		{"GET /api/v1/alerts", "/api/v1/alerts", "All", "all", "all=true"},
		{"GET /api/v1/alerts/history", "/api/v1/alerts/history", "lmit", "limit", "limit=5"},
		{"GET /api/v1/silences", "/api/v1/silences", "alll", "all", "all=false"},
		{"GET /api/v1/certificates", "/api/v1/certificates", "limt", "limit", "limit=1&cursor="},
		{"GET /api/v1/report", "/api/v1/report", "section", "sections", "from=30d&to=1h&project=shop&sections=delivery&sections=incidents"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.pattern] = true
		method, _, _ := strings.Cut(tt.pattern, " ")
		t.Run(tt.pattern, func(t *testing.T) {
			rt := routeByPattern(t, f.api, tt.pattern)
			e := f.refused(t, "admin", method, tt.path+"?"+tt.typo+"=1")
			if !strings.Contains(e.Message, strconv.Quote(tt.typo)) || !strings.Contains(e.Hint, "did you mean "+tt.meant+"?") {
				t.Errorf("refusal of %s: %q (hint %q)", tt.typo, e.Message, e.Hint)
			}
			for _, p := range rt.Query {
				if !strings.Contains(e.Hint, p.Name) {
					t.Errorf("hint %q does not list %s", e.Hint, p.Name)
				}
			}
			known, _ := url.ParseQuery(tt.known)
			for _, p := range rt.Query {
				if _, ok := known[p.Name]; !ok {
					t.Errorf("the table's known query %q leaves out %s", tt.known, p.Name)
				}
			}
			if status, body, _ := f.call("admin", method, tt.path+"?"+tt.known, nil); status != rt.status() {
				t.Errorf("with %s: %d %s", tt.known, status, body)
			}
		})
	}
	for _, rt := range f.api.Routes() {
		if len(rt.Query) > 0 && !rt.AnyQuery && !covered[rt.Pattern()] {
			t.Errorf("%s accepts query parameters but is not in this table", rt.Pattern())
		}
		seen := map[string]bool{}
		for _, p := range rt.Query {
			if seen[p.Name] || p.Description == "" {
				t.Errorf("%s: parameter %q declared twice or undescribed", rt.Pattern(), p.Name)
			}
			seen[p.Name] = true
		}
	}
}

// call2 is call without the headers.
func (f *fixture) call2(who, method, path string) (int, []byte) {
	f.t.Helper()
	status, body, _ := f.call(who, method, path, nil)
	return status, body
}

func routeByPattern(t *testing.T, a *API, pattern string) Route {
	t.Helper()
	i := slices.IndexFunc(a.Routes(), func(rt Route) bool { return rt.Pattern() == pattern })
	if i < 0 {
		t.Fatalf("no route %s", pattern)
	}
	return a.Routes()[i]
}

// TestEveryRouteRefusesAnUnknownQueryParameter walks the route table,
// with a route wired in as the app wires its own: every route refuses a
// parameter it does not declare (one with none declared refuses any)
// before its handler runs, except those whose callers are outside
// Phoenix, which take any.
func TestEveryRouteRefusesAnUnknownQueryParameter(t *testing.T) {
	f := newFixture(t)
	ran := false
	f.api.Handle(Route{Method: "POST", Path: "/api/v1/wired", Tag: "server", Perm: auth.Read, Summary: "a route of the app",
		Handler: func(w http.ResponseWriter, r *http.Request) { ran = true }})
	upload, _, _ := f.upload()
	for _, rt := range f.api.Routes() {
		path := rt.Path
		for _, p := range rt.pathParams() {
			path = strings.Replace(path, "{"+p+"}", pathValue(f, rt, p, upload), 1)
			path = strings.Replace(path, "{"+p+"...}", pathValue(f, rt, p, upload), 1)
		}
		status, body := f.call2("admin", rt.Method, path+"?zz_not_a_parameter=phx_value")
		if rt.AnyQuery {
			if strings.Contains(string(body), "query parameter") {
				t.Errorf("%s takes any query, but answered %d %s", rt.Pattern(), status, body)
			}
			continue
		}
		var e Error
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || !strings.Contains(e.Message, `unknown query parameter "zz_not_a_parameter"`) ||
			strings.Contains(string(body), "phx_value") {
			t.Errorf("%s answered an unknown parameter with %d %s", rt.Pattern(), status, body)
		}
		if len(rt.Query) == 0 && !strings.Contains(e.Message, rt.Pattern()+" takes none") {
			t.Errorf("%s: %q does not say it takes no parameters", rt.Pattern(), e.Message)
		}
	}
	if ran {
		t.Error("the wired route's handler ran on a refused query")
	}
}

// pathValue is a value of the path parameter p of rt that its
// authorization lets through: an existing run or upload.
func pathValue(f *fixture, rt Route, p, upload string) string {
	switch {
	case p == "project":
		return "shop"
	case p == "env":
		return "staging"
	case p == "id" && strings.HasPrefix(rt.Path, runParam):
		return strconv.FormatInt(f.done, 10)
	case p == "id" && strings.HasPrefix(rt.Path, "/api/v1/uploads/"):
		return upload
	}
	return "x"
}

// TestBadQueryValuesAreRefused: a value not of its parameter's form, or
// a parameter given twice that is not a list, is a 400 naming the
// parameter, the value and what is accepted, and the request does
// nothing.
func TestBadQueryValuesAreRefused(t *testing.T) {
	f := newFixture(t)
	live := f.secret("QV")
	tests := []struct {
		method, path string
		want         []string
	}{
		{"GET", "/api/v1/runs?limit=abc", []string{"limit", `"abc"`, "positive number"}},
		{"GET", "/api/v1/users?limit=0", []string{"limit", `"0"`, "positive number"}},
		{"GET", "/api/v1/runs?status=bogus", []string{"status", `"bogus"`, "one of queued, running, waiting"}},
		{"GET", "/api/v1/audit?order=sideways", []string{"order", `"sideways"`, "one of asc, desc"}},
		{"GET", "/api/v1/alerts?all=yes", []string{"all", `"yes"`, "one of true, false"}},
		{"GET", "/api/v1/secrets?deleted=1", []string{"deleted", `"1"`, "one of true, false"}},
		{"DELETE", "/api/v1/secrets/" + live + "?purge=yes", []string{"purge", `"yes"`, "one of true, false"}},
		{"GET", "/api/v1/runs?status=failed&status=running", []string{"status", "given 2 times", `"failed", "running"`}},
		{"GET", "/api/v1/certificates?limit=1&limit=2", []string{"limit", "given 2 times"}},
		{"GET", "/api/v1/runs?cursor=abc", []string{"cursor", `"abc"`, "not one this endpoint issued"}},
		{"GET", "/api/v1/audit?cursor=-4", []string{"cursor", `"-4"`, "not one this endpoint issued"}},
		{"GET", "/api/v1/runs?status=%zz", []string{"query string", "invalid URL escape"}},
		{"GET", "/api/v1/runs?status=failed;limit=1", []string{"query string", "semicolon"}},
	}
	for _, tt := range tests {
		e := f.refused(t, "admin", tt.method, tt.path)
		for _, w := range tt.want {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%s %s: %q does not say %s", tt.method, tt.path, e.Message, w)
			}
		}
	}
	if status, body := f.call2("admin", "GET", "/api/v1/secrets/"+live); status != http.StatusOK {
		t.Errorf("a refused delete deleted the secret: %d %s", status, body)
	}
	recs, err := f.log.Query(bg, audit.Filter{Action: "secret.delete"})
	if err != nil || len(recs) != 1 || recs[0].Outcome != audit.Failed || recs[0].Actor != "admin" ||
		!strings.Contains(recs[0].Detail, `HTTP 400: query parameter purge "yes"`) {
		t.Errorf("the refused delete's audit record: %+v %v", recs, err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string         `json:"name"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	_, body := f.call2("none", "GET", "/api/v1/openapi.json")
	json.Unmarshal(body, &doc)
	schemas := map[string]string{}
	for _, p := range doc.Paths["/api/v1/runs"]["get"].Parameters {
		b, _ := json.Marshal(p.Schema)
		schemas[p.Name] = string(b)
	}
	if !strings.Contains(schemas["status"], `"enum":["queued",`) || !strings.Contains(schemas["limit"], `"type":"integer"`) {
		t.Errorf("the document does not give the parameters' forms: %v", schemas)
	}
}

// FuzzCheckQuery: whatever the query string, the check never panics,
// refuses only with an invalid-request error, and lets through only
// parameters the route declares, each once unless a list, with a value
// of its form.
func FuzzCheckQuery(f *testing.F) {
	rt := Route{Method: "GET", Path: "/api/v1/fuzz", Query: []Param{textParam("project", ""),
		{Name: "status", Values: []string{"failed", "running"}}, numberParam("limit", ""),
		{Name: "sections", Repeat: true}}}
	for _, seed := range []string{"", "stauts=failed", "status=failed&status=running", "limit=abc", "limit=5&sections=a&sections=b",
		"%zz", "a;b", "=x", "&&", "project=" + strings.Repeat("\xff", 100), "LIMIT=1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkQuery(rt, raw)
		if err != nil {
			if usererr.KindOf(err) != usererr.Invalid || err.Error() == "" {
				t.Fatalf("%q: %v (kind %v)", raw, err, usererr.KindOf(err))
			}
			return
		}
		q, perr := url.ParseQuery(raw)
		if perr != nil {
			t.Fatalf("%q was let through though it does not parse: %v", raw, perr)
		}
		for name, vs := range q {
			i := slices.IndexFunc(rt.Query, func(p Param) bool { return p.Name == name })
			if i < 0 || len(vs) > 1 && !rt.Query[i].Repeat {
				t.Fatalf("%q let %s through", raw, name)
			}
			for _, v := range vs {
				if v != "" && rt.Query[i].wrong(v) != "" {
					t.Fatalf("%q let %s=%q through", raw, name, v)
				}
			}
		}
	})
}
