package app

import (
	"fmt"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestConcurrentReconfigureAppliesTheNewest: many reconfigure calls at
// once, each after a change of the project's phoenix.yaml, leave the
// monitor with the probe of the file in effect at the end, never an
// older snapshot applied last (reconfigure serializes snapshot and
// apply). Without the serialization this fails often, not always: the
// race needs two calls to interleave.
func TestConcurrentReconfigureAppliesTheNewest(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &config.Config{}
			cfg.Project.Name = "shop"
			cfg.Monitor.Endpoints = []config.Endpoint{{Name: fmt.Sprintf("probe-%d", i), URL: "http://127.0.0.1:9/"}}
			a.projects.mu.Lock()
			a.projects.cfg["shop"] = cfg
			a.projects.mu.Unlock()
			a.reconfigure()
		}()
	}
	wg.Wait()
	want := a.projects.get("shop").Monitor.Endpoints[0].Name
	ts := a.Monitor.Targets()
	if len(ts) != 1 || ts[0].Name != want {
		t.Fatalf("probes in effect %+v, want only %s (the file in effect)", ts, want)
	}
}
