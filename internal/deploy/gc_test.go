package deploy

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// TestGCLeavesBlobsStagedForAnUpload reproduces the race of a deploy to a
// running server on the same data dir: the CLI builds the release into the
// server's blob store, a collection runs before the upload names the
// blobs, and the upload must still find every one of them. A staged blob
// nobody uploads is collected once its grace period is over.
func TestGCLeavesBlobsStagedForAnUpload(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.blobs.SetClock(func() time.Time { return now })
	m, blobs := manifestOf("v1", map[string]string{"index.html": "staged", "app.js": "staged too"})
	for d, b := range blobs { // the CLI's build, straight into the server's store
		if err := f.blobs.Put(ctx, d, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	st, err := f.svc.CollectGarbage(ctx) // a scheduled collection, between build and upload
	if err != nil {
		t.Fatal(err)
	}
	if st.Blobs != 0 {
		t.Fatalf("the collection deleted %d staged blob(s)", st.Blobs)
	}
	canon, _ := m.Canonical()
	up, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Missing) != 0 {
		t.Fatalf("the upload lacks %v: the collection took staged blobs", up.Missing)
	}
	if _, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "staging", Actor: "dev"}); err != nil {
		t.Fatal(err)
	}

	// A blob staged and never uploaded (the deploy was interrupted) goes
	// once its grace period is over.
	orphan := backend.Sum([]byte("orphan"))
	if err := f.blobs.Put(ctx, orphan, bytes.NewReader([]byte("orphan")), 6); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour - time.Minute)
	if st, _ := f.svc.CollectGarbage(ctx); st.Blobs != 0 {
		t.Fatalf("collected %d blob(s) within the grace period", st.Blobs)
	}
	now = now.Add(2 * time.Minute)
	if st, _ := f.svc.CollectGarbage(ctx); st.Blobs != 1 {
		t.Fatalf("collected %d blob(s) after the grace period, want the orphan", st.Blobs)
	}
	if _, err := f.blobs.Stat(ctx, orphan); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("orphan still stored: %v", err)
	}
}

// TestGCLeavesAnOldBlobStagedAgain: a blob that has been unreferenced for
// more than the grace period (a retired release's) and that a new build
// stages again is young again: the Put that finds it stored touches it.
func TestGCLeavesAnOldBlobStagedAgain(t *testing.T) {
	f := newFixture(t)
	d := backend.Sum([]byte("shared"))
	if err := f.blobs.Put(ctx, d, bytes.NewReader([]byte("shared")), 6); err != nil {
		t.Fatal(err)
	}
	// The clock is set so that the blob's ctime is exactly at the end of
	// its grace period: it is settled until something touches it.
	end := time.Now().Add(local.Grace)
	f.blobs.SetClock(func() time.Time { return end })
	if !f.blobs.Settled(d) {
		t.Fatal("a blob older than the grace period is not settled")
	}
	// The kernel's ctime moves in clock ticks (a few ms): stage again
	// until a tick has passed, with a deadline.
	for deadline := time.Now().Add(10 * time.Second); f.blobs.Settled(d); {
		if time.Now().After(deadline) {
			t.Fatal("staging the stored blob again did not restart its grace period")
		}
		if err := f.blobs.Put(ctx, d, bytes.NewReader([]byte("shared")), 6); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := f.svc.CollectGarbage(ctx); st.Blobs != 0 {
		t.Fatalf("collected a blob staged again: %+v", st)
	}
	if _, err := f.blobs.Stat(ctx, d); err != nil {
		t.Fatal(err)
	}
}
