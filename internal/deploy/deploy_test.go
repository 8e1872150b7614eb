package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

var ctx = context.Background()

type fixture struct {
	svc   *Service
	blobs *local.Store
	mu    sync.Mutex
	seen  []Release
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, func(l *local.Store) backend.Backend { return l })
}

// newFixtureOn is newFixture with the service's blob store made from the
// local one by wrap.
func newFixtureOn(t *testing.T, wrap func(*local.Store) backend.Backend) *fixture {
	t.Helper()
	dir := t.TempDir()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	blobs, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := sign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blobs.SetClock(pastGrace)
	f := &fixture{blobs: blobs}
	f.svc = New(Options{DB: db, Blobs: wrap(blobs), Key: key, Keep: 3})
	f.svc.OnActivate(func(r Release) { f.mu.Lock(); f.seen = append(f.seen, r); f.mu.Unlock() })
	for _, e := range []EnvSpec{{Name: "production", Locked: true}, {Name: "staging"}, {Name: "gated", Approvals: 2}} {
		if err := f.svc.EnsureEnvironment(ctx, "site", e); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// pastGrace is a clock past every blob's grace period (local.Grace): the
// fixture's collections delete unreferenced blobs however fresh they are,
// except in the tests of the grace period itself.
func pastGrace() time.Time { return time.Now().Add(local.Grace + time.Minute) }

// manifestOf builds a manifest for files (path -> content).
func manifestOf(release string, files map[string]string) (*artifact.Manifest, map[backend.Digest][]byte) {
	m := &artifact.Manifest{Version: artifact.FormatVersion, Meta: artifact.Meta{Release: release}}
	blobs := map[backend.Digest][]byte{}
	for p, body := range files {
		d := backend.Sum([]byte(body))
		blobs[d] = []byte(body)
		m.Files = append(m.Files, artifact.File{Path: p, Digest: d, Size: int64(len(body)), Type: "text/plain; charset=utf-8"})
	}
	m.Sort()
	return m, blobs
}

// deploy runs the whole protocol and returns the deployment and how many
// blobs had to be sent.
func (f *fixture) deploy(t *testing.T, env, release string, files map[string]string) (*Deployment, int) {
	t.Helper()
	m, blobs := manifestOf(release, files)
	dep, sent, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: env, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return dep, sent
}

// runDeploy is deploy as pipeline run's deploy step makes it (checking
// none of the environment's health).
func (f *fixture) runDeploy(t *testing.T, env, release string, files map[string]string, run string) (*Deployment, int) {
	t.Helper()
	m, blobs := manifestOf(release, files)
	dep, sent, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: env, Actor: "alice", Message: "pipeline run " + run, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	return dep, sent
}

// finalize uploads m to project, sending the blobs the service lacks
// (from blobs), and finalizes it with o: Finalize's deployment and error,
// and how many blobs were sent.
func (f *fixture) finalize(t *testing.T, project string, m *artifact.Manifest, blobs map[backend.Digest][]byte, o FinalizeOptions) (*Deployment, int, error) {
	t.Helper()
	canon, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	up, err := f.svc.BeginUpload(ctx, project, canon)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range up.Missing {
		if err := f.svc.PutBlob(ctx, up.ID, d, bytes.NewReader(blobs[d]), int64(len(blobs[d]))); err != nil {
			t.Fatal(err)
		}
	}
	dep, err := f.svc.Finalize(ctx, up.ID, o)
	return dep, len(up.Missing), err
}

func TestDeployUploadsOnlyWhatIsMissing(t *testing.T) {
	f := newFixture(t)
	d1, sent := f.deploy(t, "production", "v1", map[string]string{"index.html": "one", "a.js": "shared"})
	if sent != 2 || !d1.Active {
		t.Fatalf("first deploy sent %d blobs, active=%v", sent, d1.Active)
	}
	_, sent = f.deploy(t, "production", "v2", map[string]string{"index.html": "two", "a.js": "shared"})
	if sent != 1 {
		t.Fatalf("second deploy sent %d blobs, want 1 (a.js is already stored)", sent)
	}
	if len(f.seen) != 2 || mustManifest(t, f.seen[1]).Meta.Release != "v2" {
		t.Fatalf("listener saw %d activations", len(f.seen))
	}
}

func TestRollbackRepointsWithoutRebuild(t *testing.T) {
	f := newFixture(t)
	d1, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	d2, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	back, err := f.svc.Rollback(ctx, "site", "production", 0, "bob")
	if err != nil || back.ID != d1.ID {
		t.Fatalf("rollback = %+v, %v", back, err)
	}
	hist, _ := f.svc.Deployments(ctx, "site", "production", 0)
	if len(hist) != 2 || hist[0].ID != d2.ID || hist[0].Active || !hist[1].Active {
		t.Fatalf("history = %+v", hist)
	}
	if _, err := f.svc.Rollback(ctx, "site", "production", 0, "bob"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("rolling back past the first deployment: %v", err)
	}
	fwd, err := f.svc.Rollback(ctx, "site", "production", d2.ID, "bob")
	if err != nil || fwd.ID != d2.ID {
		t.Fatalf("roll forward by id: %+v %v", fwd, err)
	}
	if _, err := f.svc.Rollback(ctx, "site", "production", 999, "bob"); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
	last := f.seen[len(f.seen)-1]
	if last.Deployment.ID != d2.ID || mustManifest(t, last).Meta.Release != "v2" {
		t.Fatalf("edge was told %+v", last.Deployment)
	}
}

func TestFinalizeRefusesMissingBlobs(t *testing.T) {
	f := newFixture(t)
	m, _ := manifestOf("v1", map[string]string{"index.html": "never sent"})
	canon, _ := m.Canonical()
	up, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "staging"})
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "not uploaded") {
		t.Fatalf("finalize with a missing blob: %v", err)
	}
	if active, _ := f.svc.Active(ctx); len(active) != 0 {
		t.Fatal("something was activated")
	}
}

// TestPutBlobRejectsBadContent: bytes that are not the blob are never
// stored. A blob cut short or altered on the way is a Conflict (HTTP 409,
// exit 1: sending it again may work, and does), not Invalid (400, exit 2:
// the command line is wrong); a blob the upload does not name is Invalid.
func TestPutBlobRejectsBadContent(t *testing.T) {
	f := newFixture(t)
	m, _ := manifestOf("v1", map[string]string{"index.html": "real"})
	canon, _ := m.Canonical()
	up, _ := f.svc.BeginUpload(ctx, "site", canon)
	d := up.Missing[0]
	cases := map[string]struct {
		digest backend.Digest
		body   string
		kind   usererr.Kind
	}{
		"altered":       {d, "fake", usererr.Conflict},
		"truncated":     {d, "rea", usererr.Conflict},
		"not in upload": {backend.Sum([]byte("other")), "other", usererr.Invalid},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := f.svc.PutBlob(ctx, up.ID, c.digest, strings.NewReader(c.body), -1)
			if usererr.KindOf(err) != c.kind {
				t.Fatalf("err = %v (kind %s), want kind %s", err, usererr.KindOf(err).Code(), c.kind.Code())
			}
			if c.kind == usererr.Conflict && (usererr.HTTPStatus(err) != 409 || usererr.ExitCode(err) != 1 || !strings.Contains(usererr.HintOf(err), "run the deploy again")) {
				t.Fatalf("a blob cut short: HTTP %d, exit %d, hint %q", usererr.HTTPStatus(err), usererr.ExitCode(err), usererr.HintOf(err))
			}
			if _, err := f.blobs.Stat(ctx, c.digest); err == nil {
				t.Fatal("bad content was stored")
			}
		})
	}
	if err := f.svc.PutBlob(ctx, up.ID, d, strings.NewReader("real"), 4); err != nil {
		t.Fatalf("the blob sent again: %v", err)
	}
	if _, err := f.svc.BeginUpload(ctx, "site", []byte(`{"version":1,"files":[{"path":"../x"}]}`)); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("bad manifest: %v", err)
	}
}

func TestProtection(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.DeleteEnvironment(ctx, "site", "production"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("deleting a locked environment: %v", err)
	}
	if err := f.svc.DeleteEnvironment(ctx, "site", "staging"); err != nil {
		t.Fatal(err)
	}
	m, blobs := manifestOf("v1", map[string]string{"index.html": "x"})
	canon, _ := m.Canonical()
	up, _ := f.svc.BeginUpload(ctx, "site", canon)
	for d, b := range blobs {
		f.svc.PutBlob(ctx, up.ID, d, bytes.NewReader(b), int64(len(b)))
	}
	if _, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "gated"}); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("deploy without approvals: %v", err)
	}
	if _, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "gated", Approvals: 1}); usererr.KindOf(err) != usererr.Conflict ||
		!strings.Contains(err.Error(), "needs 2 approval(s) before a deployment; this one has 1") {
		t.Fatalf("deploy with too few approvals: %v", err)
	}
	if _, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "gated", Approvals: 2}); err != nil {
		t.Fatalf("approved deploy: %v", err)
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "Bad Name"}); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("bad env name: %v", err)
	}
}

func TestRetentionKeepsActiveAndCollectsBlobs(t *testing.T) {
	f := newFixture(t)
	first, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "v1", "keep.js": "k"})
	for i := 2; i <= 5; i++ {
		f.deploy(t, "production", "v"+string(rune('0'+i)), map[string]string{"index.html": "v" + string(rune('0'+i)), "keep.js": "k"})
	}
	// Roll back to the first: it is active, so it must survive retention.
	if _, err := f.svc.Rollback(ctx, "site", "production", first.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	// An upload in flight names a blob nobody else references.
	m, blobs := manifestOf("next", map[string]string{"index.html": "in flight"})
	canon, _ := m.Canonical()
	up, _ := f.svc.BeginUpload(ctx, "site", canon)
	for d, b := range blobs {
		f.svc.PutBlob(ctx, up.ID, d, bytes.NewReader(b), int64(len(b)))
	}
	st, err := f.svc.CollectGarbage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hist, _ := f.svc.Deployments(ctx, "site", "production", 0)
	if len(hist) != 4 || hist[len(hist)-1].ID != first.ID || !hist[len(hist)-1].Active {
		t.Fatalf("after retention: %+v", hist)
	}
	if st.Deployments != 1 || st.Blobs != 1 {
		t.Fatalf("stats = %+v, want 1 deployment (v2) and its 1 blob", st)
	}
	for d := range blobs {
		if _, err := f.blobs.Stat(ctx, d); err != nil {
			t.Fatal("GC deleted a blob of an upload in flight")
		}
	}
	for _, r := range mustActive(t, f) {
		for _, b := range mustManifest(t, r).Blobs() {
			if _, err := f.blobs.Stat(ctx, b.Digest); err != nil {
				t.Fatalf("active release lost blob %s", b.Digest)
			}
		}
	}
	// Once the upload expires, its blob goes too.
	f.svc.opts.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	st, _ = f.svc.CollectGarbage(ctx)
	if st.Uploads != 1 || st.Blobs != 1 {
		t.Fatalf("after expiry: %+v", st)
	}
}

func mustActive(t *testing.T, f *fixture) []Release {
	t.Helper()
	rs, err := f.svc.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func mustManifest(t *testing.T, r Release) *artifact.Manifest {
	t.Helper()
	m, err := r.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInterruptedUploadResumes(t *testing.T) {
	f := newFixture(t)
	files := map[string]string{}
	for i := 0; i < 10; i++ {
		files["f"+string(rune('a'+i))+".txt"] = "content " + string(rune('a'+i))
	}
	m, blobs := manifestOf("v1", files)
	canon, _ := m.Canonical()
	first, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil || len(first.Missing) != 10 {
		t.Fatalf("first: %v %v", first, err)
	}
	for _, d := range first.Missing[:4] { // the connection drops after 4 blobs
		f.svc.PutBlob(ctx, first.ID, d, bytes.NewReader(blobs[d]), int64(len(blobs[d])))
	}
	again, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || len(again.Missing) != 6 {
		t.Fatalf("resume: id %s (was %s), %d missing, want 6", again.ID, first.ID, len(again.Missing))
	}
	for _, d := range again.Missing {
		f.svc.PutBlob(ctx, again.ID, d, bytes.NewReader(blobs[d]), int64(len(blobs[d])))
	}
	if _, err := f.svc.Finalize(ctx, again.ID, FinalizeOptions{Environment: "staging"}); err != nil {
		t.Fatal(err)
	}
}

// TestHoldBlobsDefersDeletion: a collection that starts while a backup
// holds the blobs deletes nothing until the hold ends, and an upload is
// not held up meanwhile.
func TestHoldBlobsDefersDeletion(t *testing.T) {
	f := newFixture(t)
	_, _ = f.deploy(t, "production", "v1", map[string]string{"index.html": "old"})
	_, _ = f.deploy(t, "production", "v2", map[string]string{"index.html": "new"})
	f.svc.opts.Keep = 1
	oldBlob := backend.Sum([]byte("old"))
	gcDone := make(chan error, 1)
	err := f.svc.HoldBlobs(func() error {
		go func() { _, err := f.svc.CollectGarbage(ctx); gcDone <- err }()
		m, _ := manifestOf("v3", map[string]string{"index.html": "during"})
		canon, _ := m.Canonical()
		if _, err := f.svc.BeginUpload(ctx, "site", canon); err != nil {
			return fmt.Errorf("upload during a hold: %w", err)
		}
		select {
		case err := <-gcDone:
			return fmt.Errorf("collection finished during the hold (%v)", err)
		case <-time.After(200 * time.Millisecond): // a check that can only miss, never flake
		}
		if _, err := f.blobs.Stat(ctx, oldBlob); err != nil {
			return fmt.Errorf("blob deleted during the hold: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	if _, err := f.blobs.Stat(ctx, oldBlob); err == nil {
		t.Fatal("the retired release's blob survived the collection after the hold")
	}
}
