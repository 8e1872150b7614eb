package throttle

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestTakeRefillsAndWaits(t *testing.T) {
	var bs Buckets
	l := Limit{Key: "a", PerMinute: 5}
	for i := range 5 {
		if ok, _ := bs.Take(t0, l); !ok {
			t.Fatalf("take %d of 5 refused", i+1)
		}
	}
	ok, wait := bs.Take(t0, l)
	if ok || wait != 12*time.Second {
		t.Fatalf("6th take: %v, wait %v; want refused, 12s", ok, wait)
	}
	if !bs.Empty(t0, l) || bs.Empty(t0, Limit{Key: "b", PerMinute: 5}) {
		t.Fatal("Empty does not tell the used-up bucket from an untouched one")
	}
	if ok, wait := bs.Take(t0.Add(11*time.Second), l); ok || wait != time.Second {
		t.Fatalf("after 11s: %v, wait %v; want refused, 1s", ok, wait)
	}
	if ok, _ := bs.Take(t0.Add(12*time.Second), l); !ok {
		t.Fatal("a token was not back after minute/5")
	}
	if ok, _ := bs.Take(t0.Add(12*time.Second), Limit{Key: "off", PerMinute: 0}); !ok {
		t.Fatal("a limit of 0 refused")
	}
}

// TestTakeIsAllOrNothing: a take refused for one bucket takes nothing
// from the others; Give puts back what a take took, never more than the
// bucket holds.
func TestTakeIsAllOrNothing(t *testing.T) {
	var bs Buckets
	tight, wide := Limit{Key: "tight", PerMinute: 1}, Limit{Key: "wide", PerMinute: 3}
	if ok, _ := bs.Take(t0, tight, wide); !ok {
		t.Fatal("first take refused")
	}
	for range 5 {
		if ok, wait := bs.Take(t0, tight, wide); ok || wait != time.Minute {
			t.Fatalf("take past the tight bucket: %v, wait %v", ok, wait)
		}
	}
	for i := range 2 { // wide lost one token, not six
		if ok, _ := bs.Take(t0, wide); !ok {
			t.Fatalf("take %d of wide's last two refused", i+1)
		}
	}
	if ok, _ := bs.Take(t0, wide); ok {
		t.Fatal("wide gave a 4th token")
	}
	bs.Give(t0, wide)
	bs.Give(t0, tight, tight, Limit{Key: "never taken", PerMinute: 1})
	if ok, _ := bs.Take(t0, tight, wide); !ok {
		t.Fatal("the tokens given back were not there")
	}
	if ok, _ := bs.Take(t0, tight); ok {
		t.Fatal("giving back twice made tight hold more than its size")
	}
}

// TestBucketsStayBounded: buckets that are full again are dropped as the
// map grows, and a spray of keys never keeps more than MaxBuckets.
func TestBucketsStayBounded(t *testing.T) {
	var bs Buckets
	for i := range sweepFrom {
		bs.Take(t0, Limit{Key: fmt.Sprint("old", i), PerMinute: 10})
	}
	later := t0.Add(6 * time.Second) // one token back: full again
	bs.Take(later, Limit{Key: "new", PerMinute: 10})
	if n := bs.size(); n != 1 {
		t.Fatalf("%d buckets kept after the full ones went, want 1", n)
	}
	for i := range 3 * MaxBuckets {
		bs.Take(later, Limit{Key: fmt.Sprint("spray", i), PerMinute: 10})
		if i%1000 == 0 && bs.size() > MaxBuckets {
			t.Fatalf("%d buckets kept after %d keys", bs.size(), i+1)
		}
	}
	if n := bs.size(); n > MaxBuckets || n == 0 {
		t.Fatalf("%d buckets kept, want 1 to %d", n, MaxBuckets)
	}
}

func TestClientGroupsIPv6By64(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "[2001:db8:1:2:ffff::9]:443"},
		{"192.0.2.7", "[::ffff:192.0.2.7]:5000"},
		{"192.0.2.7:1", "192.0.2.7"},
	} {
		if Client(c.a) != Client(c.b) {
			t.Errorf("%s and %s are different clients: %s, %s", c.a, c.b, Client(c.a), Client(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.7", "192.0.2.8"},
		{"not an address", "192.0.2.8"},
	} {
		if Client(c.a) == Client(c.b) {
			t.Errorf("%s and %s are one client: %s", c.a, c.b, Client(c.a))
		}
	}
}

// TestTakeEachNamesTheEmptyBucket: buckets kept outside Buckets (loaded
// from a database) take all or nothing and say which one was empty
// first; a full one is IsFull, and Give never fills one past its size.
func TestTakeEachNamesTheEmptyBucket(t *testing.T) {
	wide, tight := Full(Limit{PerMinute: 10}, t0), Full(Limit{PerMinute: 2}, t0)
	for range 2 {
		if first, _ := TakeEach(t0, &wide, &tight); first != -1 {
			t.Fatalf("a take with tokens in both refused: first empty %d", first)
		}
	}
	first, wait := TakeEach(t0, &wide, &tight, &Bucket{PerMinute: 0})
	if first != 1 || wait != 30*time.Second {
		t.Fatalf("take past the tight bucket: first empty %d, wait %v; want 1, 30s", first, wait)
	}
	if wide.Tokens != 8 {
		t.Fatalf("the refused take took from the wide bucket: %v tokens left, want 8", wide.Tokens)
	}
	if wide.IsFull(t0) || !wide.IsFull(t0.Add(12*time.Second)) {
		t.Fatal("IsFull does not tell a bucket 12s after two takes of 10 a minute is full again")
	}
	tight.Give(t0.Add(30 * time.Second)) // one back by the clock, one given
	tight.Give(t0.Add(30 * time.Second))
	if tight.Tokens != 2 || !tight.IsFull(t0.Add(30*time.Second)) {
		t.Fatalf("giving back filled the tight bucket to %v tokens, want 2", tight.Tokens)
	}
}
