package edge

import "runtime"

// Loops is the number of event loops a Server with Loops n runs on Linux:
// n when set, else half the Ps the process may use, at least one
// (GOMAXPROCS follows the CPU quota of the process's cgroup).
//
// Half, because the loops are what plain HTTP is served by, and the rest of
// the machine serves HTTPS (net/http's goroutines), the API, the pipeline's
// builds and the Go runtime. Measured on two cores next to a load generator
// (bench/edge/RESULTS-edge.md), one loop serves as much as two with a
// better p99, so two or three cores get one loop, as they did before
// "auto". Bigger machines are not measured here.
func Loops(n int) int {
	if n > 0 {
		return n
	}
	return max(1, runtime.GOMAXPROCS(0)/2)
}
