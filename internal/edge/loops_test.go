package edge

import (
	"net/http"
	"runtime"
	"testing"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

// TestLoops: a set count is kept; unset, one loop per two Ps, at least one
// (two cores get the one loop the benchmarks measured best there).
func TestLoops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if got := Loops(3); got != 3 {
		t.Fatalf("Loops(3) = %d", got)
	}
	for procs, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 8: 4, 9: 4} {
		runtime.GOMAXPROCS(procs)
		if got := Loops(0); got != want {
			t.Errorf("GOMAXPROCS %d: Loops(0) = %d, want %d", procs, got, want)
		}
	}
}

// TestServerLoopsAuto: a Server without Loops runs edge.Loops(0) loops, a
// set count as many.
func TestServerLoopsAuto(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	h, err := NewHandler(NewHosts(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for set, want := range map[int]int{0: 2, 3: 3} {
		s := &Server{Handler: h, Loops: set}
		lean, ok := s.server(&http.Server{}).(*h1.Server)
		if !ok {
			t.Fatalf("Loops %d: not served by the lean loop", set)
		}
		if lean.Loops != want {
			t.Fatalf("Loops %d: %d loops, want %d", set, lean.Loops, want)
		}
	}
}
