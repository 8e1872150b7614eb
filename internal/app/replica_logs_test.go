package app

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

// FuzzRunLogsPath: only a GET of /api/v1/runs/{positive id}/logs is a
// run's logs, and its id is the one in the path.
func FuzzRunLogsPath(f *testing.F) {
	for _, p := range []string{"/api/v1/runs/12/logs", "/api/v1/runs/0/logs", "/api/v1/runs/-1/logs", "/api/v1/runs/12",
		"/api/v1/runs/12/logs/x", "/api/v1/runs//logs", "/api/v1/runs/012/logs", "/api/v1/runs/+12/logs", "/api/v1/runs/9223372036854775808/logs"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		id, ok := runLogsPath(r)
		if ok && (id <= 0 || fmt.Sprintf("/api/v1/runs/%d/logs", id) != path) {
			t.Fatalf("%q read as run %d", path, id)
		}
		r.Method = "POST"
		if _, ok := runLogsPath(r); ok {
			t.Fatalf("a POST of %q read as logs", path)
		}
	})
}
