package waf

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestColdCompile reports what the first Firewall with owasp-core costs in
// a fresh process: the time to compile the Core Rule Set and the heap the
// compiled rules keep. Coraza memoizes compiled regular expressions per
// process, so only the first compile says anything; bench/waf/run.sh runs
// this test alone with WAF_COLD_COMPILE=1. It then builds a Firewall with
// an exclusion set, which compiles a second CRS (warm: the regular
// expressions are memoized), the cost of each distinct edge.waf.exclude.
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
	t.Logf("cold compile: %s", compileCost(took, &before, &after))
	before = after
	start = time.Now()
	g := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{911100, 920420}})
	took = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	runtime.KeepAlive(g)
	if f.crs == g.crs {
		t.Fatal("an exclusion set shares the engine without exclusions")
	}
	t.Logf("exclusion set compile: %s", compileCost(took, &before, &after))
}

func compileCost(took time.Duration, before, after *runtime.MemStats) string {
	return fmt.Sprintf("%.0f ms, heap kept %.1f MiB, %.1f MiB allocated while compiling",
		float64(took.Microseconds())/1000, float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20),
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
}
