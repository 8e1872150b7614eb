package deploy

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// fetching is a blob store that is a cache of a remote one (a
// backend.Fetcher): it records what it is asked to fetch, and fails when
// told to.
type fetching struct {
	*local.Store
	mu      sync.Mutex
	fetched [][]backend.Digest
	fail    bool
}

func (f *fetching) Fetch(_ context.Context, ds []backend.Digest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("remote store unreachable")
	}
	f.fetched = append(f.fetched, slices.Sorted(slices.Values(ds)))
	return nil
}

func (f *fetching) last() []backend.Digest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetched[len(f.fetched)-1]
}

func digests(bodies ...string) []backend.Digest {
	var ds []backend.Digest
	for _, b := range bodies {
		ds = append(ds, backend.Sum([]byte(b)))
	}
	return slices.Sorted(slices.Values(ds))
}

// TestActivationsFetchTheirBlobsFirst: a deploy and a rollback each have
// every blob of the release they activate fetched before the pointer
// moves, and a failed fetch activates nothing.
func TestActivationsFetchTheirBlobsFirst(t *testing.T) {
	var fs *fetching
	f := newFixtureOn(t, func(l *local.Store) backend.Backend { fs = &fetching{Store: l}; return fs })
	d1, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one", "a.css": "style"})
	if got := fs.last(); !slices.Equal(got, digests("one", "style")) {
		t.Fatalf("deploy fetched %v", got)
	}
	f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	if got := fs.last(); !slices.Equal(got, digests("two")) {
		t.Fatalf("second deploy fetched %v", got)
	}
	back, err := f.svc.Rollback(ctx, "site", "staging", 0, "bob")
	if err != nil || back.ID != d1.ID {
		t.Fatalf("rollback = %+v, %v", back, err)
	}
	if got := fs.last(); !slices.Equal(got, digests("one", "style")) {
		t.Fatalf("rollback fetched %v", got)
	}

	fs.mu.Lock()
	fs.fail = true
	fs.mu.Unlock()
	seen := len(f.seen)
	m, blobs := manifestOf("v3", map[string]string{"index.html": "three"})
	canon, _ := m.Canonical()
	up, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil {
		t.Fatal(err)
	}
	for d, b := range blobs {
		if err := f.svc.PutBlob(ctx, up.ID, d, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "staging"}); err == nil {
		t.Fatal("Finalize activated a release whose blobs could not be fetched")
	}
	hist, _ := f.svc.Deployments(ctx, "site", "staging", 0)
	if _, err := f.svc.Rollback(ctx, "site", "staging", hist[0].ID, "bob"); err == nil {
		t.Fatal("Rollback activated a release whose blobs could not be fetched")
	}
	active := mustActive(t, f)
	if active[0].Deployment.ID != d1.ID || len(f.seen) != seen {
		t.Fatalf("active = %d after failed fetches, want %d unchanged", active[0].Deployment.ID, d1.ID)
	}
	if err := f.svc.FetchBlobs(ctx, &active[0]); err == nil {
		t.Fatal("FetchBlobs hid the fetch error")
	}
}

// TestFetchRetained: a backup has the blobs of every recorded artifact
// fetched, not only the active ones, and none of an open upload.
func TestFetchRetained(t *testing.T) {
	var fs *fetching
	f := newFixtureOn(t, func(l *local.Store) backend.Backend { fs = &fetching{Store: l}; return fs })
	f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	f.deploy(t, "production", "v2", map[string]string{"index.html": "two", "a.js": "shared"})
	m, _ := manifestOf("v3", map[string]string{"index.html": "only uploading"})
	canon, _ := m.Canonical()
	if _, err := f.svc.BeginUpload(ctx, "site", canon); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.FetchRetained(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fs.last(); !slices.Equal(got, digests("one", "two", "shared")) {
		t.Fatalf("FetchRetained fetched %v", got)
	}
	if err := newFixture(t).svc.FetchRetained(ctx); err != nil {
		t.Fatalf("FetchRetained on a local store: %v", err)
	}
}
