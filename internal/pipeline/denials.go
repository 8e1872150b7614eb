package pipeline

import (
	"sync"
	"time"
)

// Anyone can send a webhook delivery that is refused (a wrong signature or
// bearer secret, an unknown hook), so one audit record and one log line
// for each would let anyone grow the audit log and the server log without
// bound. After a hook's refusal is recorded, its further refusals within
// denialWindow are counted, not recorded one by one; the next one
// recorded after the window says how many were held back.

// denialWindow is how long a hook's refusals are counted after one was
// recorded.
const denialWindow = time.Minute

// maxDenialHooks bounds the hooks counted at once (hook names come from
// the request path, so they are the sender's to choose); beyond it, the
// refusals of hooks not counted yet are held back too, uncounted, until
// the windows of those counted pass.
const maxDenialHooks = 1024

// denialGate decides which refused deliveries are recorded.
type denialGate struct {
	mu sync.Mutex
	by map[string]*denials
}

type denials struct {
	since time.Time // when the last recorded refusal was
	held  int       // refusals since, not recorded
}

// admit reports whether a refusal of hook at now is recorded and, if so,
// how many of the hook's refusals were held back since the one before.
func (g *denialGate) admit(hook string, now time.Time) (record bool, held int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by == nil {
		g.by = map[string]*denials{}
	}
	d := g.by[hook]
	if d != nil && now.Sub(d.since) < denialWindow {
		d.held++
		return false, 0
	}
	if d == nil && len(g.by) >= maxDenialHooks && !g.prune(now) {
		return false, 0
	}
	if d != nil {
		held = d.held
	}
	g.by[hook] = &denials{since: now}
	return true, held
}

// prune forgets the hooks whose window passed with nothing held back,
// and reports whether there is room for another.
func (g *denialGate) prune(now time.Time) bool {
	for h, d := range g.by {
		if now.Sub(d.since) >= denialWindow && d.held == 0 {
			delete(g.by, h)
		}
	}
	return len(g.by) < maxDenialHooks
}
