package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

type pinger struct{ err error }

func (p pinger) PingContext(context.Context) error { return p.err }

func get(t *testing.T, h http.Handler, path string) (*http.Response, map[string]any) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: body is not JSON: %v", path, err)
	}
	return resp, body
}

func TestHealthAndVersion(t *testing.T) {
	a := New(Options{Store: pinger{}, Started: time.Now()})
	resp, body := get(t, a.Handler(), "/api/v1/health")
	if resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("health = %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	resp, body = get(t, a.Handler(), "/api/v1/version")
	if resp.StatusCode != 200 || body["version"] == nil || body["go_version"] == nil {
		t.Fatalf("version = %d %v", resp.StatusCode, body)
	}
}

func TestHealthDegradedWhenStoreDown(t *testing.T) {
	a := New(Options{Store: pinger{err: errors.New("disk on fire at /var/secret")}, Started: time.Now()})
	resp, body := get(t, a.Handler(), "/api/v1/health")
	if resp.StatusCode != 503 || body["status"] != "degraded" {
		t.Fatalf("health = %d %v", resp.StatusCode, body)
	}
	b, _ := json.Marshal(body)
	if strings.Contains(string(b), "/var/secret") {
		t.Fatal("internal detail leaked into health response")
	}
}

func TestErrorShape(t *testing.T) {
	a := New(Options{})
	a.Handle(Route{Method: "GET", Path: "/api/v1/boom", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, errors.New("db password=hunter2 rejected"))
	}})
	a.Handle(Route{Method: "GET", Path: "/api/v1/panic", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) { panic("x") }})
	a.Handle(Route{Method: "GET", Path: "/api/v1/locked", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, usererr.New(usererr.Conflict, "environment production is locked").WithHint("unlock it first"))
	}})
	cases := []struct {
		path, code string
		status     int
	}{
		{"/api/v1/nope", "unauthorized", 401},
		{"/api/v1/boom", "internal", 500},
		{"/api/v1/panic", "internal", 500},
		{"/api/v1/locked", "conflict", 409},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, a.Handler(), c.path)
			if resp.StatusCode != c.status || body["code"] != c.code {
				t.Fatalf("got %d %v", resp.StatusCode, body)
			}
			if body["request_id"] != resp.Header.Get("X-Request-Id") {
				t.Error("request id missing from body")
			}
			if strings.Contains(body["message"].(string), "hunter2") {
				t.Error("internal detail leaked")
			}
		})
	}
}
