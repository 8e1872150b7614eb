package app

import (
	"context"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// TestActivationsTriggerGarbageCollection: with Keep=1, the blob only the
// superseded release used is collected after the next activation, by the
// server itself, and the live release keeps all of its blobs.
func TestActivationsTriggerGarbageCollection(t *testing.T) {
	t.Parallel()
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(ctx) })
	// Every blob is past its grace period (blobs just written are not
	// collected: docs/deployments.md).
	a.Blobs.SetClock(func() time.Time { return time.Now().Add(local.Grace + time.Minute) })
	old := deployPage(t, a, "staging", "<title>one</title>")
	live := deployPage(t, a, "staging", "<title>two</title>")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := a.Blobs.Stat(ctx, old)
		if err != nil {
			break // collected
		}
		if time.Now().After(deadline) {
			t.Fatal("the superseded release's blob was never collected")
		}
		time.Sleep(20 * time.Millisecond) // waiting for the background collector, not timing it
	}
	if _, err := a.Blobs.Stat(ctx, live); err != nil {
		t.Fatalf("the live release lost its blob: %v", err)
	}
}
