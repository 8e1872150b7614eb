package app

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// TestReplicaForgetsBlobsAnotherCollected: a blob the leader's garbage
// collection deleted from the shared bucket is missing again for an upload
// through the follower, which had stored it: the follower no longer
// answers "already on the server" and activates a release no other
// replica can fetch (the leader's edge stayed behind on it for good).
func TestReplicaForgetsBlobsAnotherCollected(t *testing.T) {
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
	m := &artifact.Manifest{Version: artifact.FormatVersion, Files: []artifact.File{{Path: "index.html", Digest: d,
		Size: int64(len(body)), Type: "text/html; charset=utf-8"}}}
	canon, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the follower counts the collected blob missing", func() bool {
		up, err := follower.Deploy.BeginUpload(ctx, "shop", canon)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(up.Missing, d)
	})
	deployPage(t, follower, "preview-y", body) // uploads it again
	eventually(t, "the leader serves it", pageIs(t, leader, "preview-y", body))
}
