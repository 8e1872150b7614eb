package edge

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/phoenixvc/phoenix/internal/throttle"
)

const (
	limiterShards   = 32
	limiterPerShard = 4096 // 131,072 tracked clients at most
	limiterIdle     = 3 * time.Minute
)

// ipLimiter is a token bucket per client address (IPv6 per /64), in a
// sharded map whose idle entries are evicted while inserting.
type ipLimiter struct {
	limit  rate.Limit
	burst  int
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu        sync.Mutex
	m         map[netip.Addr]*limiterEntry
	lastSweep time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	last time.Time
}

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	l := &ipLimiter{limit: rate.Limit(perSecond), burst: burst}
	for i := range l.shards {
		l.shards[i].m = make(map[netip.Addr]*limiterEntry)
	}
	return l
}

func shardOf(ip netip.Addr) int {
	b := ip.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % limiterShards)
}

// allow takes one token for ip at now. When refused it returns how long
// until a token is available (at least one second, rounded up).
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) (bool, time.Duration) {
	key := throttle.ClientAddr(ip)
	s := &l.shards[shardOf(key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	if e == nil {
		s.makeRoom(now)
		e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		s.m[key] = e
	}
	e.last = now
	if e.lim.AllowN(now, 1) {
		return true, 0
	}
	need := 1 - e.lim.TokensAt(now)
	wait := time.Duration(math.Ceil(need/float64(l.limit))) * time.Second
	return false, max(wait, time.Second)
}

// makeRoom evicts idle entries at most once per idle period, and when the
// shard is full evicts the least recently seen half.
func (s *limiterShard) makeRoom(now time.Time) {
	if now.Sub(s.lastSweep) >= limiterIdle {
		s.lastSweep = now
		for k, e := range s.m {
			if now.Sub(e.last) >= limiterIdle {
				delete(s.m, k)
			}
		}
	}
	if len(s.m) < limiterPerShard {
		return
	}
	var total time.Duration
	for _, e := range s.m {
		total += now.Sub(e.last)
	}
	avg := total / time.Duration(len(s.m))
	for k, e := range s.m {
		if now.Sub(e.last) >= avg {
			delete(s.m, k)
		}
	}
}

// size reports how many clients are tracked (for tests).
func (l *ipLimiter) size() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
