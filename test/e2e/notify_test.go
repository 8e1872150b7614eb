package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNotifyTestAgainstARealReceiver: phoenix notify test sends a test
// message through a project's channel at once and says what the receiver
// answered, exit 1 for a refusal (which counts as the channel's failure:
// phoenix status names it and notify-undeliverable fires) and 0 for a
// success, which resolves that alert at once; it used to resolve only when
// the next real message got through.
func TestNotifyTestAgainstARealReceiver(t *testing.T) {
	var mu sync.Mutex
	answer, events := http.StatusNotFound, []string{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		events = append(events, r.Header.Get("X-Phoenix-Event")+" "+string(b))
		w.WriteHeader(answer)
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startServer(t, data)
	srv.client(t).put(t, "/api/v1/projects/shop/config", "version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    hook: {type: webhook, url: \""+hook.URL+"/hook/e2e-token-6502\"}\n")
	vars := []string{"PHOENIX_DATA=" + data}

	r := run(t, dir, vars, "notify", "test", "shop/hook")
	if r.code != 1 || !strings.Contains(r.stdout, "shop/hook: refused (HTTP 404)") || strings.Contains(r.stdout+r.stderr, "e2e-token-6502") {
		t.Fatalf("notify test against a 404: %+v", r)
	}
	if r := run(t, dir, vars, "status"); !strings.Contains(r.stdout, "NOTIFY shop/hook: notify.test at") {
		t.Fatalf("status after a refused test: %+v", r)
	}
	const alert = "notify-undeliverable@notify:shop/hook"
	for deadline := time.Now().Add(time.Minute); !strings.Contains(run(t, dir, vars, "alerts").stdout, alert); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not fire", alert)
		}
		time.Sleep(200 * time.Millisecond) // the server evaluates alerts every 5 s
	}

	mu.Lock()
	answer = http.StatusOK
	mu.Unlock()
	r = run(t, dir, vars, "notify", "test", "hook", "--project", "shop", "-o", "json")
	var res struct {
		OK         bool   `json:"ok"`
		Outcome    string `json:"outcome"`
		HTTPStatus int    `json:"http_status"`
		Resolved   string `json:"resolved"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || !res.OK || res.Outcome != "delivered" || res.HTTPStatus != 200 || res.Resolved != alert {
		t.Fatalf("notify test against a 200: %+v", r)
	}
	if r := run(t, dir, vars, "alerts"); strings.Contains(r.stdout, alert) {
		t.Fatalf("%s still open after the test got through: %+v", alert, r)
	}
	if r := run(t, dir, vars, "status"); strings.Contains(r.stdout, "NOTIFY") {
		t.Fatalf("status after the test got through: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) < 2 || !strings.HasPrefix(events[0], "notify.test ") || !strings.Contains(events[0], `"title":"Test message from Phoenix to shop's channel hook"`) {
		t.Fatalf("the receiver got %q", events)
	}
	if r := run(t, dir, vars, "notify", "test", "teams"); r.code != 2 {
		t.Fatalf("a channel of no project: %+v", r)
	}
}
