package app

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// TestReplicaForgetsBlobsAnotherCollected: a blob the leader's garbage
// collection deleted from the shared bucket is missing again for an upload
// through the follower, which had stored it: the follower no longer
// answers "already on the server" and activates a release no other
// replica can fetch (the leader's edge stayed behind on it for good).
func TestReplicaForgetsBlobsAnotherCollected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs, leader, follower := twoReplicas(t)
	body := "<title>collected</title>"
	deployPage(t, follower, "preview-x", body) // the follower stores the blob, and knows it
	if err := follower.Deploy.DeleteEnvironment(ctx, "shop", "preview-x"); err != nil {
		t.Fatal(err)
	}
	st, err := leader.Deploy.CollectGarbage(ctx)
	d := backend.Sum([]byte(body))
	if _, serr := rs.bucket(t).Stat(ctx, d); err != nil || !errors.Is(serr, backend.ErrNotFound) {
		t.Fatalf("the leader's collection (%+v, %v) left the blob in the bucket: %v", st, err, serr)
	}
	wantMissing(t, follower, body, "the follower counts the collected blob missing")
	deployPage(t, follower, "preview-y", body) // uploads it again
	eventually(t, "the leader serves it", pageIs(t, leader, "preview-y", body))
}

// TestReplicaForgetsCollectedBlobsWithoutTheNotification: the same, with
// the leader's phoenix_blobs notification lost: the follower's poll sees
// the new blobs generation and relearns.
func TestReplicaForgetsCollectedBlobsWithoutTheNotification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs, leader, follower := twoReplicas(t)
	leader.muteBlobsChannel.Store(true)
	body := "<title>collected, unannounced</title>"
	deployPage(t, follower, "preview-x", body)
	if err := follower.Deploy.DeleteEnvironment(ctx, "shop", "preview-x"); err != nil {
		t.Fatal(err)
	}
	d := backend.Sum([]byte(body))
	// The leader collects (at once here, or already: the deletion kicks its collector).
	if st, err := leader.Deploy.CollectGarbage(ctx); err != nil {
		t.Fatalf("collection %+v, %v", st, err)
	}
	if _, err := rs.bucket(t).Stat(ctx, d); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("the blob is still in the bucket: %v", err)
	}
	wantMissing(t, follower, body, "the follower counts the collected blob missing at its poll")
}

// wantMissing waits until an upload of a one-page site of body through a
// is told the page's blob is missing.
func wantMissing(t *testing.T, a *App, body, what string) {
	t.Helper()
	canon, d := pageManifest(t, body)
	eventually(t, what, func() bool {
		up, err := a.Deploy.BeginUpload(context.Background(), "shop", canon)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(up.Missing, d)
	})
}
