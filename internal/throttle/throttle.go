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
// Buckets keeps its buckets in memory. Bucket and TakeEach are the same
// arithmetic for buckets kept elsewhere: the auth domain keeps the login
// buckets of replicas in the database they share.
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

// Buckets holds the buckets in memory; the zero value is ready to use.
type Buckets struct {
	mu        sync.Mutex
	m         map[string]*Bucket
	nextSweep int
}

// Bucket is the state of one bucket: Tokens at At, for a limit of
// PerMinute. Buckets keeps them in memory; a caller keeping them
// elsewhere (the auth domain keeps the login buckets of replicas in the
// database they share) loads them (a missing one is Full), takes with
// TakeEach or gives with Give, and stores them back.
type Bucket struct {
	Tokens    float64
	At        time.Time
	PerMinute int
}

// Full is l's bucket as it is new at now: full.
func Full(l Limit, now time.Time) Bucket {
	return Bucket{Tokens: float64(l.PerMinute), At: now, PerMinute: l.PerMinute}
}

// Level is how many tokens b holds at now; it brings b up to now.
func (b *Bucket) Level(now time.Time) float64 {
	if d := now.Sub(b.At); d > 0 {
		b.Tokens = min(float64(b.PerMinute), b.Tokens+d.Minutes()*float64(b.PerMinute))
		b.At = now
	}
	return b.Tokens
}

// IsFull reports whether b holds all its tokens at now: it remembers
// nothing, and a new bucket would be the same.
func (b *Bucket) IsFull(now time.Time) bool {
	return b.PerMinute <= 0 || b.Level(now) >= float64(b.PerMinute)
}

// Give puts back a token taken from b, never more than it holds.
func (b *Bucket) Give(now time.Time) {
	b.Tokens = min(float64(b.PerMinute), b.Level(now)+1)
}

// fill is how full b is at now, from 0 to 1.
func (b *Bucket) fill(now time.Time) float64 { return b.Level(now) / float64(b.PerMinute) }

// TakeEach takes one token from each of bs if every one holds one and
// reports -1. Otherwise it takes none and reports the index of the first
// without a whole token and how long until every one has one again
// (whole seconds, at least one). A bucket of 0 or less a minute is no
// limit.
func TakeEach(now time.Time, bs ...*Bucket) (int, time.Duration) {
	first, wait := -1, time.Duration(0)
	for i, b := range bs {
		if b.PerMinute <= 0 {
			continue
		}
		if need := 1 - b.Level(now); need > 0 {
			if first < 0 {
				first = i
			}
			wait = max(wait, time.Duration(need*float64(time.Minute)/float64(b.PerMinute)))
		}
	}
	if first >= 0 {
		return first, max(time.Second, time.Duration(math.Ceil(wait.Seconds()))*time.Second)
	}
	for _, b := range bs {
		if b.PerMinute > 0 {
			b.Tokens--
		}
	}
	return -1, 0
}

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
	got := make([]*Bucket, 0, len(limits))
	for _, l := range limits {
		if l.PerMinute > 0 {
			got = append(got, bs.get(l, now))
		}
	}
	first, wait := TakeEach(now, got...)
	return first < 0, wait
}

// Give puts back a token Take took from each limit's bucket.
func (bs *Buckets) Give(now time.Time, limits ...Limit) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	for _, l := range limits {
		if b := bs.m[l.Key]; b != nil {
			b.Give(now)
		}
	}
}

// Empty reports whether l's bucket holds no whole token at now: whether
// a Take of it would be refused.
func (bs *Buckets) Empty(now time.Time, l Limit) bool {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[l.Key]
	return l.PerMinute > 0 && b != nil && b.PerMinute == l.PerMinute && b.Level(now) < 1
}

// get returns the bucket of l, a full one when it is new (or when the
// limit's size changed). Take makes room before it gets any.
func (bs *Buckets) get(l Limit, now time.Time) *Bucket {
	if b := bs.m[l.Key]; b != nil && b.PerMinute == l.PerMinute {
		return b
	}
	if bs.m == nil {
		bs.m = map[string]*Bucket{}
	}
	b := Full(l, now)
	bs.m[l.Key] = &b
	return &b
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
