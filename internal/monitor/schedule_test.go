package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestSlowProbesDoNotBlockOthers runs fast probes beside probes whose
// server never answers: the fast ones keep their pace.
func TestSlowProbesDoNotBlockOthers(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	counts := map[string]int{}
	done := make(chan struct{})
	const fast, runs = 100, 5
	reached := 0
	s := newScheduler(NewProber(), 128, func(tg Target, r Result) {
		mu.Lock()
		defer mu.Unlock()
		counts[tg.Name]++
		if tg.Name[0] == 'f' && counts[tg.Name] == runs {
			if reached++; reached == fast {
				close(done)
			}
		}
	})
	var ts []Target
	for i := range fast {
		tg, _ := Target{Name: fmt.Sprintf("f%d", i), URL: srv.URL + "/", Interval: 50 * time.Millisecond, Jitter: -1}.withDefaults()
		ts = append(ts, tg)
	}
	for i := range 100 { // more hanging probes than the concurrency limit would allow if they queued first
		tg, _ := Target{Name: fmt.Sprintf("s%d", i), URL: srv.URL + "/hang", Interval: 50 * time.Millisecond, Timeout: 30 * time.Second, Retries: -1}.withDefaults()
		ts = append(ts, tg)
	}
	if err := s.set(ts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go s.run(ctx)
	defer cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("fast probes starved: %d of %d reached %d runs", reached, fast, runs)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 100 {
		if c := counts[fmt.Sprintf("s%d", i)]; c != 0 {
			t.Fatalf("a hanging probe finished %d times", c)
		}
	}
}

func TestScheduleSpreadAndCron(t *testing.T) {
	s := newScheduler(NewProber(), 1, nil)
	now := time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)
	s.now = func() time.Time { return now }
	a, _ := Target{Name: "a", URL: "http://127.0.0.1:1/", Interval: time.Minute, Jitter: -1}.withDefaults()
	b, _ := Target{Name: "b", URL: "http://127.0.0.1:1/", Cron: "*/2 * * * *"}.withDefaults()
	if err := s.set([]Target{a, b}); err != nil {
		t.Fatal(err)
	}
	ea, eb := s.entries[a.ID()], s.entries[b.ID()]
	if off := ea.next.Sub(now); off < 0 || off >= time.Minute {
		t.Errorf("interval start offset %s", off)
	}
	if want := time.Date(2026, 11, 25, 10, 2, 0, 0, time.UTC); !eb.next.Equal(want) {
		t.Errorf("cron next %s, want %s", eb.next, want)
	}
	if next := s.following(eb, eb.next); !next.Equal(time.Date(2026, 11, 25, 10, 4, 0, 0, time.UTC)) {
		t.Errorf("cron following %s", next)
	}
	bad, _ := Target{Name: "c", URL: "http://x/", Cron: "61 * * * *"}.withDefaults()
	if err := s.set([]Target{bad}); err == nil {
		t.Error("bad cron accepted")
	}
	if err := s.set(nil); err != nil || len(s.heap) != 0 {
		t.Errorf("targets not removed: %v %d", err, len(s.heap))
	}
}

// TestSetWhileProbing replaces a target again and again while its probes
// run: each result is reported with the target as it was probed, read
// under the scheduler's lock (the report read the entry's target without
// it, a data race with set that the race detector reported).
func TestSetWhileProbing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	results := make(chan Target, 1024)
	s := newScheduler(NewProber(), 4, func(tg Target, _ Result) {
		select {
		case results <- tg:
		default:
		}
	})
	target := func(i int) Target {
		tg, _ := Target{Name: "p", URL: fmt.Sprintf("%s/%d", srv.URL, i), Interval: time.Millisecond, Jitter: -1}.withDefaults()
		return tg
	}
	if err := s.set([]Target{target(0)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go s.run(ctx)
	defer func() { cancel(); s.wg.Wait() }()
	for i := 1; len(results) < 50; i++ {
		if i > 100000 {
			t.Fatalf("%d probes reported", len(results))
		}
		if err := s.set([]Target{target(i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond) // lets probes run between the changes
	}
}
