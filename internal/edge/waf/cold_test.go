package waf

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestColdCompile reports what the first Firewall with owasp-core costs in
// a fresh process: the time to compile the Core Rule Set and the heap the
// compiled rules keep. Coraza memoizes compiled regular expressions per
// process, so only the first compile says anything; bench/waf/run.sh runs
// this test alone with WAF_COLD_COMPILE=1.
func TestColdCompile(t *testing.T) {
	if os.Getenv("WAF_COLD_COMPILE") == "" {
		t.Skip("set WAF_COLD_COMPILE=1 and run this test alone (bench/waf/run.sh)")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	t.Logf("cold compile: %.0f ms, heap kept %.1f MiB, %.1f MiB allocated while compiling",
		float64(took.Microseconds())/1000, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20),
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
}
