package action

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// waitUntil polls cond every few milliseconds until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// loadContext returns a step context loading srv's environment "staging"
// with the given inputs, and the step's log.
func loadContext(t *testing.T, srv *httptest.Server, with map[string]any) (*Deps, *Context, *testkit.LogBuffer, map[string]string) {
	t.Helper()
	d := &Deps{EnvURL: func(project, env string) string { return srv.URL + "/" },
		EnvHeaders: map[string]string{"X-Phoenix-Probe": "probe-secret"}}
	sc, _, outs := newContext(t, t.TempDir(), nil, nil)
	log := &testkit.LogBuffer{}
	sc.Log = log
	sc.With = map[string]any{}
	if with["url"] == nil && with["environment"] == nil {
		sc.With["environment"] = "staging"
	}
	for k, v := range with {
		sc.With[k] = v
	}
	return d, sc, log, outs
}

func outFloat(t *testing.T, outs map[string]string, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(outs[name], 64)
	if err != nil {
		t.Fatalf("output %s = %q: %v", name, outs[name], err)
	}
	return f
}

// A fast server passes the thresholds; the requests match the schedule
// (rate × duration, none dropped) and the achieved rate is near the target.
func TestLoadTestPassesOnAFastServer(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	d, sc, log, outs := loadContext(t, srv, map[string]any{"rate": 200, "duration": "1s", "paths": []any{"/", "/assets/app.js"},
		"thresholds": map[string]any{"p95": "500ms", "p99": "1s", "error_rate": "1%"}})
	if err := d.loadTest(context.Background(), sc); err != nil {
		t.Fatalf("load test failed: %v\n%s", err, log)
	}
	if outs["requests"] != "200" || outs["dropped"] != "0" || hits.Load() != 200 {
		t.Fatalf("requests %s dropped %s, server saw %d; want 200, 0, 200\n%s", outs["requests"], outs["dropped"], hits.Load(), log)
	}
	if rps := outFloat(t, outs, "rps"); rps < 120 || rps > 201 { // 200 starts over at least 1s; tolerant of a busy CI machine
		t.Fatalf("achieved %.1f requests/s of 200\n%s", rps, log)
	}
	if outs["error_rate"] != "0.00" || outFloat(t, outs, "p95_ms") > 500 {
		t.Fatalf("outputs %v\n%s", outs, log)
	}
	for _, want := range []string{"200 requests in", "/assets/app.js", "threshold p95 <= 500ms", "threshold error_rate <= 1%: 0% ok"} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
}

// One request in ten takes 300ms: the p95 threshold of 100ms fails, named
// with its value and limit.
func TestLoadTestFailsOnSlowTail(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			time.Sleep(300 * time.Millisecond) // the server's slowness under test, not synchronisation
		}
	}))
	defer srv.Close()
	d, sc, log, outs := loadContext(t, srv, map[string]any{"rate": 100, "duration": "1s",
		"thresholds": map[string]any{"p95": "100ms", "p50": "250ms"}})
	err := d.loadTest(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "1 threshold(s) breached: p95 ") || !strings.Contains(err.Error(), "> 100ms") {
		t.Fatalf("err = %v, want the p95 breach alone\n%s", err, log)
	}
	if p95 := outFloat(t, outs, "p95_ms"); p95 < 300 {
		t.Fatalf("p95_ms = %.1f, want >= 300 (one in ten sleeps 300ms)\n%s", p95, log)
	}
	if !strings.Contains(log.String(), "threshold p95 <= 100ms") || !strings.Contains(log.String(), "BREACHED") {
		t.Fatalf("log:\n%s", log)
	}
}

// Every fifth request answers 500 and every seventh 404: the error rate
// counts the 500s only and fails; the 404s are counted apart.
func TestLoadTestFailsOnServerErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch i := n.Add(1); {
		case i%5 == 0:
			w.WriteHeader(http.StatusInternalServerError)
		case i%7 == 0:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	d, sc, log, outs := loadContext(t, srv, map[string]any{"rate": 100, "duration": "1s", "thresholds": map[string]any{"error_rate": "5%"}})
	err := d.loadTest(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "error_rate 20% > 5%") {
		t.Fatalf("err = %v, want error_rate 20%% > 5%%\n%s", err, log)
	}
	if outs["error_rate"] != "20.00" || outs["requests"] != "100" {
		t.Fatalf("outputs %v\n%s", outs, log)
	}
	// 100 requests: 20 are multiples of 5; of the other 80, 14-2=12 multiples of 7 (35 and 70 are 500s).
	if !strings.Contains(log.String(), "errors 20% (5xx 20, transport 0), 4xx 12,") || !strings.Contains(log.String(), "note: 12 answers were 4xx") {
		t.Fatalf("summary does not count 5xx and 4xx apart:\n%s", log)
	}
}

// The open model: a server that stalls does not slow the schedule. The
// 10 requests max_in_flight allows stay open; the other 90 starts are
// still made on time and counted as dropped, which fails drop_rate.
func TestLoadTestStallingServerDropsStarts(t *testing.T) {
	release := make(chan struct{})
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	var once sync.Once
	stall := func() { once.Do(func() { close(release) }) }
	defer stall()
	d, sc, log, outs := loadContext(t, srv, map[string]any{"rate": 100, "duration": "1s", "max_in_flight": 10, "timeout": "30s"})
	done := make(chan error, 1)
	go func() { done <- d.loadTest(context.Background(), sc) }()
	waitUntil(t, 20*time.Second, "every start scheduled", func() bool { return log.Contains("100 starts scheduled") })
	// The span is 1s, or more when a loaded machine ran the schedule late.
	if !regexp.MustCompile(`100 starts scheduled in 1(\.\d+)?s; 10 still open, waiting up to 30s`).MatchString(log.String()) {
		t.Fatalf("log:\n%s", log)
	}
	stall()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "drop_rate 90% > 1%") {
		t.Fatalf("err = %v, want drop_rate 90%% > 1%%\n%s", err, log)
	}
	if outs["requests"] != "10" || outs["dropped"] != "90" || arrived.Load() != 10 {
		t.Fatalf("requests %s dropped %s arrived %d; want 10 90 10\n%s", outs["requests"], outs["dropped"], arrived.Load(), log)
	}
	// Latency runs from the scheduled start: the stalled requests waited
	// at least until every start was scheduled (~1s).
	if p99 := outFloat(t, outs, "p99_ms"); p99 < 900 {
		t.Fatalf("p99_ms = %.1f, want >= 900\n%s", p99, log)
	}
}

// Cancelling the run stops the load at once: the action returns the
// cancellation and the open requests are abandoned, long before the 30s.
func TestLoadTestCancelStopsAtOnce(t *testing.T) {
	arrived := make(chan struct{}, 1000)
	var closed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
		closed.Add(1)
	}))
	defer srv.Close()
	d, sc, log, outs := loadContext(t, srv, map[string]any{"rate": 50, "duration": "30s", "timeout": "30s"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.loadTest(ctx, sc) }()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no request arrived")
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled\n%s", err, log)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("load test still running 5s after cancel\n%s", log)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("took %s to stop", el)
	}
	if len(outs) != 0 {
		t.Fatalf("a cancelled test set outputs %v", outs)
	}
	waitUntil(t, 10*time.Second, "the server to see the requests end", func() bool { return closed.Load() == int64(len(arrived))+1 })
}

// The probe marker goes with the environment's paths only; a full URL in
// paths, or with.url, goes out without it.
func TestLoadTestProbeHeaderOnlyForEnvironmentPaths(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if seen[r.URL.Path] == nil {
			seen[r.URL.Path] = map[string]bool{}
		}
		seen[r.URL.Path][r.Header.Get("X-Phoenix-Probe")] = true
	}))
	defer srv.Close()
	d, sc, log, _ := loadContext(t, srv, map[string]any{"rate": 20, "duration": "1s", "paths": []any{"/local", srv.URL + "/public"}})
	if err := d.loadTest(context.Background(), sc); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	d, sc, log, _ = loadContext(t, srv, map[string]any{"rate": 20, "duration": "1s", "url": srv.URL + "/base/", "paths": []any{"/byurl"}})
	if err := d.loadTest(context.Background(), sc); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]map[string]bool{"/local": {"probe-secret": true}, "/public": {"": true}, "/byurl": {"": true}}
	if len(seen) != len(want) {
		t.Fatalf("seen %v, want %v", seen, want)
	}
	for p, w := range want {
		if len(seen[p]) != 1 || !seen[p][firstKey(w)] {
			t.Fatalf("path %s saw markers %v, want %v", p, seen[p], w)
		}
	}
	if strings.Contains(log.String(), "probe-secret") {
		t.Fatal("the probe marker reached the log")
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// Bad inputs fail before any request, naming the input; a load that
// cannot fit in the step's deadline is refused up front.
func TestLoadTestRefusesBadInputs(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, c := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"rate": 0}, "load-test: with.rate: must be 1..10000"},
		{map[string]any{"environment": "", "url": ""}, "load-test: with.environment: name the environment to load, or give url"},
		{map[string]any{"url": "https://user:pw@example.com/"}, "with.url: must not hold credentials"},
		{map[string]any{"duration": "5m"}, "with.duration: 5m of load plus the 10s request timeout do not fit"},
	} {
		d, sc, _, _ := loadContext(t, srv, c.with)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := d.loadTest(ctx, sc)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("with %v: err = %v, want %q", c.with, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error shows the URL's password: %v", err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests sent despite bad inputs", hits.Load())
	}
}
