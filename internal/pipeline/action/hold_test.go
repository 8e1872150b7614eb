package action

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// holdFixture is a deployments domain on SQLite and a local blob store
// whose clock is past every blob's grace period: its collections delete
// whatever nothing references, however fresh.
func holdFixture(t *testing.T) (*deploy.Service, *local.Store) {
	t.Helper()
	dir := t.TempDir()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(context.Background(), deploy.Migrations()); err != nil {
		t.Fatal(err)
	}
	blobs, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	blobs.SetClock(func() time.Time { return time.Now().Add(local.Grace + time.Minute) })
	_, key, err := sign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return deploy.New(deploy.Options{DB: db, Blobs: blobs, Key: key}), blobs
}

// TestCreateArtifactHoldsItsBlobs: the artifact a run builds stays whole
// through garbage collection until the run deploys it (an approval gate
// may wait hours before the first deploy names it), and the deploy then
// finds every blob.
func TestCreateArtifactHoldsItsBlobs(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	dist := t.TempDir()
	write(t, dist, map[string]string{"index.html": "<title>v1</title>", "assets/app.js": "console.log(1)"})
	d := &Deps{Deployer: DeployService{Svc: svc, Blobs: blobs}, Blobs: blobs}
	sc, _, outs := newContext(t, dist, nil, nil)
	sc.With["dir"] = dist
	if err := d.createArtifact(ctx, sc); err != nil {
		t.Fatal(err)
	}
	st, err := svc.CollectGarbage(ctx) // while the run waits for its approvals
	if err != nil {
		t.Fatal(err)
	}
	if st.Blobs != 0 {
		t.Fatalf("the collection deleted %d blob(s) of the run's artifact", st.Blobs)
	}
	canon, err := os.ReadFile(outs["manifest"])
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureEnvironment(ctx, "site", deploy.EnvSpec{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	res, err := d.Deployer.Deploy(ctx, DeployRequest{Project: "site", Environment: "production", Manifest: canon, Actor: "ci"})
	if err != nil {
		t.Fatalf("deploy after the collection: %v", err)
	}
	if res.ID == 0 {
		t.Fatalf("deploy result %+v", res)
	}
}

// TestCreateArtifactStoresCollectedBlobsAgain: a blob the build finds
// already stored is not protected until the hold; when a collection takes
// it in between, the hold sees it missing and the build stores it again.
func TestCreateArtifactStoresCollectedBlobsAgain(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	dist := t.TempDir()
	write(t, dist, map[string]string{"index.html": "<title>v1</title>"})
	m, err := artifact.Build(ctx, dist, blobs, artifact.BuildOptions{Meta: artifact.Meta{Project: "site", Release: "v1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	page := m.Files[0].Digest
	holder := &collectingHolder{DeployService: DeployService{Svc: svc, Blobs: blobs}, first: true}
	d := &Deps{Deployer: holder, Blobs: blobs}
	sc, log, _ := newContext(t, dist, nil, nil)
	sc.With["dir"] = dist
	if err := d.createArtifact(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if holder.holds != 2 {
		t.Fatalf("held %d time(s), want 2 (the second after storing the collected blob again)", holder.holds)
	}
	if _, err := blobs.Stat(ctx, page); err != nil {
		t.Fatalf("the collected blob was not stored again: %v", err)
	}
	if !strings.Contains(log.String(), "1 blob(s) were collected while it was built") {
		t.Fatalf("log:\n%s", log)
	}
}

// collectingHolder deletes every unheld blob (a collection) before its
// first hold, as if one ran between the build and the hold.
type collectingHolder struct {
	DeployService
	first bool
	holds int
}

func (h *collectingHolder) Hold(ctx context.Context, project string, manifest []byte) (int, error) {
	h.holds++
	if h.first {
		h.first = false
		err := h.Blobs.List(ctx, func(d backend.Digest) error { return h.Blobs.Delete(ctx, d) })
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return 0, err
		}
	}
	return h.DeployService.Hold(ctx, project, manifest)
}
