package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIListsEveryRoute: the document served at /api/v1/openapi.json
// has every registered route, with its security and, on the rate-limited
// ones, 429 with Retry-After; and every path in it is served (no request falls through to the 404 fallback).
func TestOpenAPIListsEveryRoute(t *testing.T) {
	f := newFixture(t)
	status, body, _ := f.call("none", "GET", "/api/v1/openapi.json", nil)
	if status != 200 {
		t.Fatalf("openapi.json = %d", status)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	ids := map[string]bool{}
	for _, rt := range f.api.Routes() {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s is served but not documented", rt.Pattern())
			continue
		}
		id, _ := op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s: operationId %q missing or duplicate", rt.Pattern(), id)
		}
		ids[id] = true
		sec, _ := op["security"].([]any)
		if rt.Public != (len(sec) == 0) {
			t.Errorf("%s: security %v does not match public=%v", rt.Pattern(), sec, rt.Public)
		}
		if _, ok := op["responses"].(map[string]any)["default"]; !ok {
			t.Errorf("%s: no error response", rt.Pattern())
		}
		limited, _ := op["responses"].(map[string]any)["429"].(map[string]any)
		headers, _ := limited["headers"].(map[string]any)
		if _, ok := headers["Retry-After"]; ok != rt.Limited {
			t.Errorf("%s: 429 with Retry-After documented %v, rate-limited %v", rt.Pattern(), ok, rt.Limited)
		}
		if _, ok := op["responses"].(map[string]any)["404"]; ok != (rt.Missing != "") || strings.HasPrefix(rt.Path, runParam) && !ok {
			t.Errorf("%s: 404 documented %v, want it on the routes of what a caller may not see", rt.Pattern(), ok)
		}
	}
	n := 0
	for path, ops := range doc.Paths {
		n += len(ops)
		concrete := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
		for method := range ops {
			status, out, _ := f.call("admin", strings.ToUpper(method), concrete, nil)
			if status == http.StatusNotFound && strings.Contains(string(out), "no such endpoint") {
				t.Errorf("%s %s is documented but not served", method, path)
			}
		}
	}
	if n != len(f.api.Routes()) {
		t.Errorf("document has %d operations, the API serves %d", n, len(f.api.Routes()))
	}
	refs := regexp.MustCompile(`"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(body), -1)
	for _, m := range refs {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
}

// TestOpenAPIDescribesStepsAsTheyAreSent: a run's plan steps are
// documented with the JSON they have, durations in seconds
// (timeout_seconds), not as their Go fields.
func TestOpenAPIDescribesStepsAsTheyAreSent(t *testing.T) {
	f := newFixture(t)
	_, body, _ := f.call("none", "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	step := doc.Components.Schemas["Step"].Properties
	if step["timeout_seconds"]["type"] != "number" || step["backoff_seconds"]["type"] != "number" || step["timeout"] != nil ||
		step["backoff"] != nil || step["id"]["type"] != "string" {
		t.Errorf("Step schema: %v", step)
	}
}
