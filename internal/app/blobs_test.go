package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/s3"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The S3 server in these tests is testkit.S3: the S3 REST API on
// 127.0.0.1 in this process (gofakes3). No cloud storage can run in a test.

const blobSecret = "blob-store-secret-key-never-logged"

func blobStore(t *testing.T, endpoint, u string) *s3.Store {
	t.Helper()
	s, err := s3.New(s3.Config{Config: s3conn.Config{URL: u, Endpoint: endpoint, AccessKey: "AKIDTEST", SecretKey: blobSecret},
		SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// edgeGet fetches path of an environment of project shop through the
// server's edge, on 127.0.0.1 with the environment's host name.
func edgeGet(t *testing.T, a *App, env, path string) (int, string) {
	t.Helper()
	u, err := url.Parse(a.EdgeURL("shop", env))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+u.Port()+path, nil)
	req.Host = u.Hostname()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func wantPage(t *testing.T, a *App, env, body string) {
	t.Helper()
	if code, got := edgeGet(t, a, env, "/"); code != 200 || got != body {
		t.Fatalf("edge %s / = %d %q, want %q", env, code, got, body)
	}
}

// waitGone polls (a deadline, not a sleep to time anything) until the
// background collector has removed d from the bucket and the cache.
func waitGone(t *testing.T, a *App, rs backend.Backend, d backend.Digest) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, rerr := rs.Stat(context.Background(), d)
		_, lerr := a.Blobs.Path(d)
		if errors.Is(rerr, backend.ErrNotFound) && errors.Is(lerr, backend.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blob %s never collected: bucket %v, cache %v", d, rerr, lerr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBlobsInS3: a server whose blobs live in S3 deploys a site the edge
// serves from its cache, rolls back, collects an unreferenced blob from
// the bucket and the cache, and after a restart with an emptied cache dir
// fetches the live release again before it serves it. The secret key is
// never logged.
func TestBlobsInS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := blobStore(t, testkit.S3(t, "artifacts"), "s3://artifacts/phoenix")
	var log testkit.LogBuffer
	dir := t.TempDir()
	o := Options{DataDir: dir, BlobStore: rs, Keep: 2,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	a := startOpts(t, o)
	v1 := deployPage(t, a, "staging", "<title>one</title>")
	v2 := deployPage(t, a, "staging", "<title>two</title>")
	wantPage(t, a, "staging", "<title>two</title>")
	for _, d := range []backend.Digest{v1, v2} {
		if _, err := rs.Stat(ctx, d); err != nil {
			t.Fatalf("blob %s not in the bucket: %v", d, err)
		}
	}
	if _, err := a.Deploy.Rollback(ctx, "shop", "staging", 0, "ops"); err != nil {
		t.Fatal(err)
	}
	wantPage(t, a, "staging", "<title>one</title>")
	deployPage(t, a, "staging", "<title>three</title>") // Keep 2: the oldest, v1, is dropped
	wantPage(t, a, "staging", "<title>three</title>")
	waitGone(t, a, rs, v1)
	if _, err := rs.Stat(ctx, v2); err != nil {
		t.Fatalf("a retained release's blob left the bucket: %v", err)
	}
	a.Stop(ctx)

	if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	b := startOpts(t, o)
	wantPage(t, b, "staging", "<title>three</title>")
	if _, err := b.Deploy.Rollback(ctx, "shop", "staging", 0, "ops"); err != nil {
		t.Fatal(err)
	}
	wantPage(t, b, "staging", "<title>two</title>")
	if log.Contains(blobSecret) {
		t.Fatal("the blob store's secret key is in the server's log")
	}
}

// TestBlobStoreUnreachableAtStart: a bucket that does not exist fails the
// start with a usage error naming the flag, and not the secret.
func TestBlobStoreUnreachableAtStart(t *testing.T) {
	t.Parallel()
	rs := blobStore(t, testkit.S3(t, "artifacts"), "s3://no-such-bucket/p")
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", BlobStore: rs})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(context.Background())
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--blob-store s3://no-such-bucket/p") ||
		strings.Contains(err.Error(), blobSecret) {
		t.Fatalf("start with a missing bucket: %v", err)
	}
}

// TestBackupWithBlobsInS3: a backup of a server whose blobs live in S3
// holds every retained release's blobs (fetched into the cache first, even
// after the cache was emptied), so the restored data dir serves on its own
// from local disk, without the bucket.
func TestBackupWithBlobsInS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := blobStore(t, testkit.S3(t, "artifacts"), "s3://artifacts")
	repo := initRepo(t, backupKey)
	dir := t.TempDir()
	o := Options{DataDir: dir, BlobStore: rs,
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off"}}
	a := startOpts(t, o)
	old := deployPage(t, a, "production", "<title>old</title>")
	live := deployPage(t, a, "production", "<title>live</title>")
	a.Stop(ctx)
	if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	a = startOpts(t, o)
	res, err := a.Backups.Run(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []backend.Digest{old, live} {
		if objectOf(t, repo, res.Snapshot.ID, d) == "" {
			t.Fatalf("blob %s is not in the snapshot", d)
		}
	}
	a.Stop(ctx)
	b := start(t, restoreLatest(t, repo)) // local disk, no bucket
	wantPage(t, b, "production", "<title>live</title>")
	if _, err := b.Deploy.Rollback(ctx, "shop", "production", 0, "ops"); err != nil {
		t.Fatal(err)
	}
	wantPage(t, b, "production", "<title>old</title>")
}

// TestBlobStoreClaimedByAnotherServer: a second server (another data dir)
// pointed at the prefix a first one uses is refused at start, naming the
// flag; its own prefix of the same bucket is fine.
func TestBlobStoreClaimedByAnotherServer(t *testing.T) {
	t.Parallel()
	endpoint := testkit.S3(t, "artifacts")
	startOpts(t, Options{DataDir: t.TempDir(), BlobStore: blobStore(t, endpoint, "s3://artifacts/prod")})
	b, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		BlobStore: blobStore(t, endpoint, "s3://artifacts/prod")})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(context.Background())
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--blob-store") || !errors.Is(err, s3.ErrClaimed) {
		t.Fatalf("second server on the same prefix: %v", err)
	}
	startOpts(t, Options{DataDir: t.TempDir(), BlobStore: blobStore(t, endpoint, "s3://artifacts/staging")})
}

// TestReleaseWithBlobsInS3: a release run on a server whose blobs live in
// S3 builds its artifact into the bucket (through the cache), deploys it
// and the edge serves it; the build's blobs were written to the data dir
// only, so the deploy found them missing from the store, twice, and the
// run failed.
func TestReleaseWithBlobsInS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := blobStore(t, testkit.S3(t, "artifacts"), "s3://artifacts/phoenix")
	a := startOpts(t, Options{DataDir: t.TempDir(), BlobStore: rs})
	dir := t.TempDir()
	yaml := `version: 1
project: {name: shop}
environments: {staging: {}}
pipeline:
  stages:
    - name: build
      steps:
        - name: site
          run: mkdir -p out && printf '<title>piped</title>' > out/index.html
        - name: artifact
          uses: create-artifact
          with: {dir: out}
    - name: ship
      needs: [build]
      environment: staging
      steps:
        - {name: deploy, uses: deploy}
`
	releaseFolder(t, a, dir, yaml, "v1.0.0", "admin")
	wantPage(t, a, "staging", "<title>piped</title>")
	d := backend.Sum([]byte("<title>piped</title>"))
	if _, err := rs.Stat(ctx, d); err != nil {
		t.Fatalf("the page's blob is not in the bucket: %v", err)
	}
}
