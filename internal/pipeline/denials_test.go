package pipeline

import (
	"fmt"
	"testing"
	"time"
)

// TestDenialGate: a hook's first refusal is recorded, the next ones
// within the window are held back and counted into the first recorded
// after it; hooks are counted apart; past maxDenialHooks hooks with a
// window still open, a new hook's refusals are held back, and room is
// made again once windows pass, also from hooks that held refusals back
// (their count is handed over, not lost, and cannot pin the gate full).
func TestDenialGate(t *testing.T) {
	var g denialGate
	t0 := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	if rec, held, _ := g.admit("shop/on-push", t0); !rec || held != 0 {
		t.Fatalf("first refusal: record %v held %d", rec, held)
	}
	for i := range 30 {
		if rec, _, _ := g.admit("shop/on-push", t0.Add(time.Duration(i)*time.Second)); rec {
			t.Fatalf("refusal %d within the window was recorded", i)
		}
	}
	if rec, _, _ := g.admit("blog/on-push", t0.Add(time.Second)); !rec {
		t.Fatal("another hook's first refusal was held back")
	}
	if rec, held, _ := g.admit("shop/on-push", t0.Add(denialWindow)); !rec || held != 30 {
		t.Fatalf("after the window: record %v held %d, want true and 30", rec, held)
	}
	for i := range maxDenialHooks {
		at := t0.Add(denialWindow)
		g.admit(fmt.Sprintf("x/%d", i), at)
		g.admit(fmt.Sprintf("x/%d", i), at) // one held back each
	}
	if rec, _, _ := g.admit("new/hook", t0.Add(denialWindow)); rec {
		t.Fatal("a hook beyond the bound was recorded while every window is open")
	}
	rec, _, evicted := g.admit("new/hook", t0.Add(3*denialWindow))
	if !rec {
		t.Fatal("no room made once the windows passed, though the hooks held refusals back")
	}
	// shop and blog take two places: x/0..x/1021 held one each; x/1022
	// and x/1023 came with every window open and were never counted.
	if evicted != maxDenialHooks-2 {
		t.Fatalf("the forgotten hooks handed over %d held-back refusals, want %d", evicted, maxDenialHooks-2)
	}
}
