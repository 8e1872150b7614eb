package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/cache"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// BlobStore is a remote store that keeps the artifact blobs instead of the
// data dir (package artifact/backend/s3). The data dir's blobs folder is
// then its local cache: what the edge serves with sendfile, filled before
// each activation (docs/artifacts.md, "Blobs in S3").
type BlobStore interface {
	backend.Backend
	// Check reaches the store, so a wrong bucket, endpoint, region or key
	// fails the start instead of the first deploy.
	Check(ctx context.Context) error
	// Claim marks the store as this server's (owner is an id kept in the
	// data dir) and refuses a store another server claimed: each one's
	// garbage collection would delete the other's blobs.
	Claim(ctx context.Context, owner string) error
	// String names the store (a URL without credentials).
	String() string
	// Identity names the place the blobs are (endpoint, bucket, prefix; no
	// credentials): replicas sharing a database must agree on it, as
	// s3.SameIdentity compares two.
	Identity() string
}

// openBlobs opens <data>/blobs and, with Options.BlobStore, puts it in
// front of that store as its cache; the deployments domain keeps its blobs
// in a.store.
func (a *App) openBlobs(ctx context.Context) error {
	l, err := local.New(filepath.Join(a.opts.DataDir, "blobs"))
	if err != nil {
		return err
	}
	a.Blobs, a.store = l, l
	a.sweepBlobs(ctx, l)
	rs := a.opts.BlobStore
	if rs == nil {
		return nil
	}
	if err := rs.Check(ctx); err != nil {
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s is not reachable: %v", a.opts.flag("blob-store"), rs, err)).
			WithHint("check the bucket name, --blob-store-endpoint, --blob-store-region and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
	}
	if a.opts.Replica.On {
		err = a.claimSharedBlobStore(ctx, rs) // replicas.go
	} else {
		err = a.claimBlobStore(ctx, rs)
	}
	if err != nil {
		return err
	}
	c := cache.New(rs, l)
	if err := c.Prime(ctx); err != nil {
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s %s: %v", a.opts.flag("blob-store"), rs, err))
	}
	a.store = c
	a.log.Info("artifact blobs in remote storage", "store", rs.String(), "cache", l.Root())
	return nil
}

// claimBlobStore claims rs for this server alone, with the data dir's
// owner id.
func (a *App) claimBlobStore(ctx context.Context, rs BlobStore) error {
	owner, err := blobOwner(a.opts.DataDir)
	if err != nil {
		return err
	}
	if err := rs.Claim(ctx, owner); err != nil {
		return a.claimRefused(err, "")
	}
	return nil
}

// claimRefused is the start's error for a blob store whose claim failed;
// hint replaces the usual advice when it is not empty.
func (a *App) claimRefused(err error, hint string) error {
	if hint == "" {
		hint = "give each server its own prefix (s3://bucket/staging, s3://bucket/prod); if the server that claimed it is gone for good, delete blobs/phoenix-owner under the prefix"
	}
	return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s: %v", a.opts.flag("blob-store"), err)).WithHint("%s", hint)
}

// servable returns the active releases whose blobs are local files,
// fetching what a cache lacks first (an emptied cache dir is filled again
// before the edge serves). A release whose blobs cannot be fetched is left
// out and logged: the edge serves it once a later activation or start can
// fetch it, never half of it.
func (a *App) servable(ctx context.Context, active []deploy.Release) []deploy.Release {
	out := active[:0]
	for _, r := range active {
		if err := a.Deploy.FetchBlobs(ctx, &r); err != nil {
			a.log.Error("edge: cannot fetch the release's blobs; not serving it", "project", r.Project, "env", r.Environment,
				"deployment", r.Deployment.ID, "err", err)
			continue
		}
		out = append(out, r)
	}
	return out
}

// blobOwnerFile holds the id this data dir claims its blob store prefix
// with; it is backed up, so a restored data dir goes on with the bucket.
const blobOwnerFile = "blob-store.owner"

// blobOwner reads the data dir's blob store owner id, making one the first
// time.
func blobOwner(dataDir string) (string, error) {
	p := filepath.Join(dataDir, blobOwnerFile)
	b, err := os.ReadFile(p)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("blob store owner: %w", err)
	}
	var id [16]byte
	rand.Read(id[:])
	owner := hex.EncodeToString(id[:])
	if err := os.WriteFile(p, []byte(owner+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("blob store owner: %w", err)
	}
	return owner, nil
}
