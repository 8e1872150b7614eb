package tick

import (
	"context"
	"testing"
	"time"
)

// TestEvery: fn runs repeatedly, with the given context, and Every
// returns once that context ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func(got context.Context) {
			if got != ctx {
				t.Error("fn got another context")
			}
			if calls++; calls == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if calls != 3 {
		t.Fatalf("fn ran %d times, want 3", calls)
	}
}
