//go:build linux

// Command monitor-bench measures the monitor: (1) probes per minute against
// a local test server (run as a child process so its CPU and memory are not
// counted) with the peak RSS of the monitoring process, and (2) the time
// from an endpoint failing to the alert notification reaching a webhook
// receiver, for a rule with a short window. Loopback only; bounded in time.
//
//	go run ./bench/monitor -probes 10000 -interval 60s -run 65s
//	go run ./bench/monitor -mode latency -window 5s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/webhook"
	"github.com/phoenixvc/phoenix/internal/store"
)

func main() {
	mode := flag.String("mode", "probes", "probes | latency | serve")
	n := flag.Int("probes", 10000, "number of HTTP probes")
	interval := flag.Duration("interval", time.Minute, "probe interval")
	run := flag.Duration("run", 65*time.Second, "how long to run (probes mode)")
	window := flag.Duration("window", 5*time.Second, "alert rule window (latency mode)")
	retries := flag.Int("retries", 0, "probe retries before a failure counts (latency mode)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (serve mode)")
	flag.Parse()
	switch *mode {
	case "serve":
		serve(*addr)
	case "probes":
		probes(*n, *interval, *run)
	case "latency":
		latency(*window, *retries)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// serve is the probed site: every path answers a small HTML page.
func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	page := []byte("<!doctype html><title>Phoenix VC</title><p>ok</p>")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(page)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { time.Sleep(15 * time.Minute); os.Exit(0) }() // bounded even if the parent dies
	log.Fatal(srv.Serve(ln))
}

func openDB(ctx context.Context) (*store.DB, func()) {
	dir, err := os.MkdirTemp("", "monitor-bench")
	if err != nil {
		log.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Migrate(ctx, monitor.Migrations(), notify.Migrations()); err != nil {
		log.Fatal(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

func probes(n int, interval, run time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	child := exec.Command(os.Args[0], "-mode", "serve")
	out, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		log.Fatal(err)
	}
	defer child.Process.Kill()
	buf := make([]byte, 64)
	k, _ := out.Read(buf)
	target := "http://" + strings.TrimSpace(string(buf[:k]))

	db, done := openDB(ctx)
	defer done()
	var results, failures, steady atomic.Int64
	warm := time.Now().Add(5 * time.Second)
	var mu sync.Mutex
	var firstAt time.Time
	m, err := monitor.New(monitor.Options{DB: db, Proc: "-"})
	if err != nil {
		log.Fatal(err)
	}
	m.OnResult(func(_ monitor.Target, r monitor.Result) {
		mu.Lock()
		if firstAt.IsZero() {
			firstAt = time.Now()
		}
		mu.Unlock()
		results.Add(1)
		if r.Time.After(warm) {
			steady.Add(1)
		}
		if !r.Success {
			failures.Add(1)
		}
	})
	ts := make([]monitor.Target, n)
	for i := range ts {
		ts[i] = monitor.Target{Name: "p" + strconv.Itoa(i), Environment: "bench", URL: target + "/t/" + strconv.Itoa(i), Interval: interval}
	}
	if err := m.SetTargets(ts); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	var cpu0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
	m.Run(ctx)
	elapsed := time.Since(start)
	var cpu1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
	cpu := tv(cpu1.Utime) + tv(cpu1.Stime) - tv(cpu0.Utime) - tv(cpu0.Stime)
	var points int
	_ = db.QueryRow(`SELECT COUNT(*) FROM monitor_points WHERE res = 0`).Scan(&points)
	perMin := float64(steady.Load()) / (elapsed - 5*time.Second).Minutes()
	fmt.Printf("probes=%d interval=%s run=%s go=%s GOMAXPROCS=%d\n", n, interval, elapsed.Round(time.Millisecond), runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Printf("results=%d failures=%d steady rate (after 5 s)=%.0f probes/min raw_points_stored=%d\n", results.Load(), failures.Load(), perMin, points)
	fmt.Printf("monitor process: peak RSS %d MB, CPU %.1fs (%.0f%% of one core)\n", peakRSS()/1024, cpu.Seconds(), 100*cpu.Seconds()/elapsed.Seconds())
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// peakRSS is VmHWM in kB.
func peakRSS() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return 0
}

// latency flips a probed endpoint to failing and times the alert's arrival
// at a webhook receiver.
func latency(window time.Duration, retries int) {
	ctx, cancel := context.WithTimeout(context.Background(), window+60*time.Second)
	defer cancel()
	var failing atomic.Bool
	site := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	siteLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go site.Serve(siteLn)
	defer site.Close()
	arrived := make(chan time.Time, 4)
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(webhook.EventHeader) == "alert.firing" {
			arrived <- time.Now()
		}
	})}
	rcvLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go rcv.Serve(rcvLn)
	defer rcv.Close()

	db, done := openDB(ctx)
	defer done()
	hook, _ := webhook.New(webhook.Options{URL: "http://" + rcvLn.Addr().String() + "/hook", Secret: "bench"})
	d, _ := notify.NewDispatcher(notify.Options{DB: db, Channels: map[string]notify.Channel{"ops": {Notifier: hook, MinSeverity: 4}}})
	go d.Run(ctx)
	m, _ := monitor.New(monitor.Options{DB: db, Proc: "-", Publisher: d, EvalEvery: 250 * time.Millisecond, FlushEvery: 250 * time.Millisecond})
	probeEvery := 500 * time.Millisecond
	if err := m.SetTargets([]monitor.Target{{Name: "home", Environment: "production", URL: "http://" + siteLn.Addr().String() + "/",
		Interval: probeEvery, Timeout: 2 * time.Second, Retries: retries, RetryDelay: time.Second, Jitter: -1}}); err != nil {
		log.Fatal(err)
	}
	m.SetRules([]monitor.Rule{{Name: "availability", Metric: "availability", Threshold: 99.9, Op: "<", Window: window, Severity: 0}})
	go m.Run(ctx)
	time.Sleep(2 * time.Second) // healthy baseline (the bench waits on the clock by design)
	t0 := time.Now()
	failing.Store(true)
	select {
	case at := <-arrived:
		lat := at.Sub(t0)
		fmt.Printf("window=%s probe_interval=%s retries=%d eval_every=250ms failure_threshold=2\n", window, probeEvery, retries)
		fmt.Printf("endpoint failing -> notification received: %s (budget window+2s = %s) %s\n", lat.Round(time.Millisecond), window+2*time.Second,
			map[bool]string{true: "OK", false: "OVER"}[lat <= window+2*time.Second])
	case <-ctx.Done():
		fmt.Println("no notification arrived")
		os.Exit(1)
	}
}
