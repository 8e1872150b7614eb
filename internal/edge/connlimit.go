package edge

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
	"github.com/phoenixvc/phoenix/internal/throttle"
)

// ConnLimit caps the connections one client holds open at once, as
// nginx's limit_conn does per address: a client at the cap has its next
// connections closed unanswered until one of its own closes. A client is
// an address, an IPv6 one by its /64 (as the rate limit counts). Peers in
// the exempt prefixes — trusted proxies, whose one address carries many
// clients' connections — are not counted. One ConnLimit is shared by the
// edge's listeners (plain HTTP and HTTPS), so the cap holds across them.
// It protects the process's file descriptors and memory from one client
// opening connections it never uses; the idle and header timeouts close
// those anyway, the cap stops them piling up meanwhile.
type ConnLimit struct {
	max    int
	exempt []netip.Prefix
	mu     sync.Mutex
	open   map[netip.Addr]int
}

// NewConnLimit returns a cap of max connections per client (max ≥ 1),
// not counting peers in exempt.
func NewConnLimit(max int, exempt []netip.Prefix) (*ConnLimit, error) {
	if max < 1 {
		return nil, fmt.Errorf("edge: a connection cap per client of %d; give 1 or more, or no cap", max)
	}
	return &ConnLimit{max: max, exempt: exempt, open: map[netip.Addr]int{}}, nil
}

// Open counts a new connection from peer, or reports false when its client
// is at the cap.
func (l *ConnLimit) Open(peer netip.AddrPort) bool {
	k, counted := l.key(peer)
	if !counted {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[k] >= l.max {
		return false
	}
	l.open[k]++
	return true
}

// Closed uncounts a connection from peer that Open admitted.
func (l *ConnLimit) Closed(peer netip.AddrPort) {
	k, counted := l.key(peer)
	if !counted {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch n := l.open[k]; {
	case n > 1:
		l.open[k] = n - 1
	case n == 1:
		delete(l.open, k)
	}
}

// Clients is the number of clients holding connections that count.
func (l *ConnLimit) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// key is the client peer counts under, and whether it counts at all.
func (l *ConnLimit) key(peer netip.AddrPort) (netip.Addr, bool) {
	ip := peer.Addr().Unmap()
	if !ip.IsValid() || inPrefixes(l.exempt, ip) {
		return netip.Addr{}, false
	}
	return throttle.ClientAddr(ip), true
}

// gate is a Server's h1.Gate: its ConnLimit, with the listener's count of
// refused connections.
type gate struct {
	lim     *ConnLimit
	refused *atomic.Uint64
}

func (g gate) Open(peer netip.AddrPort) bool {
	if g.lim.Open(peer) {
		return true
	}
	g.refused.Add(1)
	return false
}

func (g gate) Closed(peer netip.AddrPort) { g.lim.Closed(peer) }

var _ h1.Gate = gate{}
