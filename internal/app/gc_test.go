package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestActivationsTriggerGarbageCollection: with Keep=1, the blob only the
// superseded release used is collected after the next activation, by the
// server itself, and the live release keeps all of its blobs.
func TestActivationsTriggerGarbageCollection(t *testing.T) {
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(ctx) })
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "staging"}); err != nil {
		t.Fatal(err)
	}
	release := func(body string) backend.Digest {
		d := backend.Sum([]byte(body))
		m := &artifact.Manifest{Version: artifact.FormatVersion, Files: []artifact.File{{Path: "index.html", Digest: d,
			Size: int64(len(body)), Type: "text/html; charset=utf-8"}}}
		canon, err := m.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		up, err := a.Deploy.BeginUpload(ctx, "shop", canon)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Deploy.PutBlob(ctx, up.ID, d, bytes.NewReader([]byte(body)), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Deploy.Finalize(ctx, up.ID, deploy.FinalizeOptions{Environment: "staging"}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	old := release("<title>one</title>")
	live := release("<title>two</title>")
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
