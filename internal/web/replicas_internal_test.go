package web

import (
	"testing"
	"time"
)

// TestServesListMarksBehind: an environment a replica's edge is behind on
// is marked, also one it serves nothing for yet.
func TestServesListMarksBehind(t *testing.T) {
	rv := replicaView{Serves: map[string]int64{"production.shop": 41, "staging.shop": 7},
		Behind: map[string]time.Time{"production.shop": time.Now(), "preview.shop": time.Now()}}
	if got := rv.ServesList(); got != "shop/preview — (BEHIND), shop/production #41 (BEHIND), shop/staging #7" {
		t.Fatalf("ServesList = %q", got)
	}
}
