// Package throttle slows down guessing: token buckets keyed by strings
// (a client address, a user name, both), for the login limits of the auth
// domain; and the client address a limit keys on (ClientAddr: an IPv6
// client by its /64), which the edge's limits share.
//
// A bucket of n a minute holds n tokens and gets one back every minute/n.
// Take is all or nothing: it takes a token from each bucket it is given
// only when every one has one, so an attempt refused for one limit costs
// nothing in the others. A caller counting failures takes a token before
// it checks the credential and gives it back with Give when the
// credential was good: concurrent attempts cannot slip past the limit
// between the check and the count.
//
// Memory is bounded: full buckets say nothing and are dropped when the
// map grows, and at MaxBuckets the fullest half goes too.
package throttle

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"
)

// MaxBuckets is the most buckets one Buckets keeps.
const MaxBuckets = 100_000

// sweepFrom is the size from which inserting a bucket drops the full
// ones (then again each time the map has doubled).
const sweepFrom = 4096

// sweepSlack keeps room below MaxBuckets for the buckets one Take adds
// after its sweep.
const sweepSlack = 16

// Limit is one bucket: its key and how many tokens a minute it holds
// and gets back.
type Limit struct {
	Key       string
	PerMinute int
}

// Buckets holds the buckets; the zero value is ready to use.
type Buckets struct {
	mu        sync.Mutex
	m         map[string]*bucket
	nextSweep int
}

type bucket struct {
	tokens    float64
	at        time.Time
	perMinute int
}

// level is how many tokens b holds at now.
func (b *bucket) level(now time.Time) float64 {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(b.perMinute), b.tokens+d.Minutes()*float64(b.perMinute))
		b.at = now
	}
	return b.tokens
}

// fill is how full b is at now, from 0 to 1.
func (b *bucket) fill(now time.Time) float64 { return b.level(now) / float64(b.perMinute) }

// Take takes one token from each limit's bucket if every one has one and
// reports true. Otherwise it takes none and reports how long until every
// one has one again (whole seconds, at least one). A limit of 0 or less
// a minute is no limit.
func (bs *Buckets) Take(now time.Time, limits ...Limit) (bool, time.Duration) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if len(bs.m) >= max(bs.nextSweep, sweepFrom) {
		bs.makeRoom(now)
	}
	var wait time.Duration
	for _, l := range limits {
		if l.PerMinute <= 0 {
			continue
		}
		if need := 1 - bs.get(l, now).level(now); need > 0 {
			wait = max(wait, time.Duration(need*float64(time.Minute)/float64(l.PerMinute)))
		}
	}
	if wait > 0 {
		return false, max(time.Second, time.Duration(math.Ceil(wait.Seconds()))*time.Second)
	}
	for _, l := range limits {
		if l.PerMinute > 0 {
			bs.m[l.Key].tokens--
		}
	}
	return true, 0
}

// Give puts back a token Take took from each limit's bucket.
func (bs *Buckets) Give(now time.Time, limits ...Limit) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	for _, l := range limits {
		if b := bs.m[l.Key]; b != nil {
			b.tokens = min(float64(b.perMinute), b.level(now)+1)
		}
	}
}

// Empty reports whether l's bucket holds no whole token at now: whether
// a Take of it would be refused.
func (bs *Buckets) Empty(now time.Time, l Limit) bool {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[l.Key]
	return l.PerMinute > 0 && b != nil && b.perMinute == l.PerMinute && b.level(now) < 1
}

// get returns the bucket of l, a full one when it is new (or when the
// limit's size changed). Take makes room before it gets any.
func (bs *Buckets) get(l Limit, now time.Time) *bucket {
	if b := bs.m[l.Key]; b != nil && b.perMinute == l.PerMinute {
		return b
	}
	if bs.m == nil {
		bs.m = map[string]*bucket{}
	}
	b := &bucket{tokens: float64(l.PerMinute), at: now, perMinute: l.PerMinute}
	bs.m[l.Key] = b
	return b
}

// makeRoom drops the buckets that are full again (they remember nothing)
// and, if nearly MaxBuckets are still kept, those at least as full as the
// average, which forget the least, and more until half are left.
func (bs *Buckets) makeRoom(now time.Time) {
	var sum float64
	for k, b := range bs.m {
		if f := b.fill(now); f >= 1 {
			delete(bs.m, k)
		} else {
			sum += f
		}
	}
	if len(bs.m) >= MaxBuckets-sweepSlack {
		avg := sum / float64(len(bs.m))
		for k, b := range bs.m {
			if b.fill(now) >= avg {
				delete(bs.m, k)
			}
		}
		for k := range bs.m { // as many as equally empty: any of them
			if len(bs.m) < MaxBuckets/2 {
				break
			}
			delete(bs.m, k)
		}
	}
	bs.nextSweep = min(MaxBuckets-sweepSlack, 2*len(bs.m))
}

// size is how many buckets are kept (for tests).
func (bs *Buckets) size() int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return len(bs.m)
}

// Client is the key of a client address for a limit: the address, or for
// IPv6 its /64, which one host usually owns (so a host cannot take a new
// address for each attempt). addr may carry a port ("host:port", a
// request's RemoteAddr); one that does not parse is its own key.
func Client(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return addr
	}
	return ClientAddr(ip).String()
}

// ClientAddr is Client for a parsed address: ip, unmapped, or the first
// address of its /64 for IPv6.
func ClientAddr(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}
