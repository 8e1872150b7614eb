package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/s3"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestBlobStoreInS3 runs 'phoenix server --blob-store' (the S3 API is
// testkit.S3, on 127.0.0.1 in this test process, the only stand-in): a bad
// URL and a missing bucket fail the start naming the flag; a server with
// its blobs in a bucket and its backups mirrored to another (one set of
// AWS_* credentials for both) deploys a site through the CLI, serves it,
// keeps its blobs in the bucket, and backs up; the secret key is never
// printed.
func TestBlobStoreInS3(t *testing.T) {
	work := t.TempDir()
	endpoint := testkit.S3(t, "artifacts", "offsite")
	const secret = "blob-store-secret-e2e"
	creds := []string{"AWS_ACCESS_KEY_ID=AKIDE2E", "AWS_SECRET_ACCESS_KEY=" + secret}
	for _, args := range [][]string{
		{"--blob-store", "http://artifacts/phoenix"},
		{"--blob-store", "s3://no-such-bucket/phoenix", "--blob-store-endpoint", endpoint},
		{"--blob-store-endpoint", endpoint},
	} {
		r := run(t, work, creds, append([]string{"server", "--data", filepath.Join(work, "refused"),
			"--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0"}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--blob-store") || strings.Contains(r.stderr+r.stdout, secret) {
			t.Fatalf("server %v: %+v", args, r)
		}
	}

	data, repo, keyFile := filepath.Join(work, "data"), filepath.Join(work, "repo"), filepath.Join(work, "backup.key")
	if r := run(t, work, nil, "backup", "init", "--repo", repo, "--key-file", keyFile); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	s := startServerWith(t, data, creds, "--blob-store", "s3://artifacts/phoenix", "--blob-store-endpoint", endpoint,
		"--backup-repo", repo, "--backup-key-file", keyFile, "--backup-schedule", "off",
		"--backup-mirror", "s3://offsite/phoenix", "--backup-mirror-endpoint", endpoint)
	env := []string{"PHOENIX_DATA=" + data}
	deployShop(t, work, env, "release-in-s3")
	if code, body := s.get(t, "production.shop.localhost", "/"); code != 200 || !strings.Contains(body, "release-in-s3") {
		t.Fatalf("edge: %d %q", code, body)
	}
	store, err := s3.New(s3.Config{Config: s3conn.Config{URL: "s3://artifacts/phoenix", Endpoint: endpoint, AccessKey: "AKIDE2E", SecretKey: secret}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	store.List(context.Background(), func(backend.Digest) error { n++; return nil })
	if n == 0 {
		t.Fatal("the bucket holds no blob after the deploy")
	}
	if r := run(t, work, env, "backup", "create"); r.code != 0 {
		t.Fatalf("backup with blobs in S3 and a mirror: %+v", r)
	}
	if strings.Contains(s.logs.String(), secret) {
		t.Fatal("the S3 secret key is in the server's log")
	}
}

// deployShop deploys a one-page site whose page names release to the
// production environment of project shop, from a project folder in work.
func deployShop(t *testing.T, work string, env []string, release string) {
	t.Helper()
	proj := filepath.Join(work, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte("version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\n"), 0o644)
	writeSite(t, filepath.Join(proj, "v1"), release)
	if r := run(t, proj, env, "deploy", "v1", "--env", "production"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
}
