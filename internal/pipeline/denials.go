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
// the request path, so they are the sender's to choose). When it is
// reached, the hooks whose window passed are forgotten, the refusals
// they held back handed to the caller to record in one line; if every
// window is still open, a new hook's refusals are held back uncounted
// until one passes.
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
// how many of the hook's refusals were held back since the one before,
// and how many refusals of other hooks, forgotten to make room, were
// held back and never recorded (evicted, to be recorded in one line).
func (g *denialGate) admit(hook string, now time.Time) (record bool, held, evicted int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by == nil {
		g.by = map[string]*denials{}
	}
	d := g.by[hook]
	if d != nil && now.Sub(d.since) < denialWindow {
		d.held++
		return false, 0, 0
	}
	if d == nil && len(g.by) >= maxDenialHooks {
		evicted = g.prune(now)
		if len(g.by) >= maxDenialHooks {
			return false, 0, evicted
		}
	}
	if d != nil {
		held = d.held
	}
	g.by[hook] = &denials{since: now}
	return true, held, evicted
}

// prune forgets the hooks whose window passed and returns the refusals
// they held back.
func (g *denialGate) prune(now time.Time) (held int) {
	for h, d := range g.by {
		if now.Sub(d.since) >= denialWindow {
			held += d.held
			delete(g.by, h)
		}
	}
	return held
}
