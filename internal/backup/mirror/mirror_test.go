package mirror

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// The S3 server is testkit.S3: the S3 REST API on 127.0.0.1 in this
// process. No cloud storage can run in a test; that is the only stand-in.

const (
	testKey    = "the repository key"
	testSecret = "mirror-secret-key-never-in-errors"
)

func testServer(t *testing.T) string { return testkit.S3(t, "phoenix-backups") }

func newMirror(t *testing.T, endpoint, url string) *S3 {
	t.Helper()
	m, err := New(Config{URL: url, Endpoint: endpoint, AccessKey: "AKIDTEST", SecretKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// repoWithSnapshot makes a repository holding one snapshot of a small data dir.
func repoWithSnapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "repo")
	r, err := backup.Init(ctx, repo, []byte(testKey), backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := t.TempDir()
	for name, body := range map[string]string{"state.db": "database", "keys/audit.key": "key", "roles.yaml": "roles: {}"} {
		os.MkdirAll(filepath.Dir(filepath.Join(data, name)), 0o700)
		os.WriteFile(filepath.Join(data, name), []byte(body), 0o600)
	}
	if _, err := r.Create(ctx, backup.CreateOptions{DataDir: data, Now: func() time.Time { return time.Unix(1e9, 0) }}); err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestPushPullRestore: a pushed repository pulled into a new folder opens
// with its key and restores the snapshot; a second push sends nothing; a
// pruned object disappears from the bucket at the next push.
func TestPushPullRestore(t *testing.T) {
	ctx := context.Background()
	endpoint := testServer(t)
	m := newMirror(t, endpoint, "s3://phoenix-backups/site/prod")
	repo := repoWithSnapshot(t)
	rep, err := m.Push(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded < 5 || rep.Deleted != 0 {
		t.Fatalf("first push: %+v", rep)
	}
	if rep, err := m.Push(ctx, repo); err != nil || rep.Uploaded != 0 || rep.Deleted != 0 {
		t.Fatalf("second push: %+v, %v", rep, err)
	}
	keys, err := m.list(ctx)
	if err != nil || len(keys) != rep.Uploaded {
		t.Fatalf("bucket holds %d keys, %v", len(keys), err)
	}
	pulled := pullAndRestore(t, m)
	if _, err := m.Pull(ctx, pulled); !errors.Is(err, backup.ErrTargetNotEmpty) {
		t.Fatalf("pull over a folder with files: %v", err)
	}

	// An object the repository no longer holds leaves the bucket.
	var gone string
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && gone == "" {
			gone = p
		}
		return err
	})
	os.Remove(gone)
	rep, err = m.Push(ctx, repo)
	if err != nil || rep.Deleted != 1 || rep.Uploaded != 0 {
		t.Fatalf("push after a prune: %+v, %v", rep, err)
	}
}

// TestMirrorOnlyHoldsCiphertext: plaintext of the backed-up files and the
// repository key never reach the bucket.
func TestMirrorOnlyHoldsCiphertext(t *testing.T) {
	ctx := context.Background()
	m := newMirror(t, testServer(t), "s3://phoenix-backups")
	repo := repoWithSnapshot(t)
	if _, err := m.Push(ctx, repo); err != nil {
		t.Fatal(err)
	}
	keys, _ := m.list(ctx)
	for rel := range keys {
		out, err := m.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(rel)})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(out.Body)
		out.Body.Close()
		for _, secret := range []string{"database", "roles: {}", testKey} {
			if bytes.Contains(b.Bytes(), []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", rel, secret)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, url := range []string{"", "http://x/y", "s3://", "s3:///p", "s3://b/a/../c", "s3://k:s@b/p", "s3://b/p?x=1"} {
		if _, err := New(Config{URL: url, AccessKey: "a", SecretKey: "b"}); err == nil {
			t.Errorf("New(%q) accepted", url)
		}
	}
	if _, err := New(Config{URL: "s3://b/p"}); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("no credentials: %v", err)
	}
	// A storage error names the mirror and the operation, never the secret.
	m, err := New(Config{URL: "s3://missing-bucket/p", Endpoint: testServer(t), AccessKey: "a", SecretKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	repo := repoWithSnapshot(t)
	_, err = m.Push(context.Background(), repo)
	if err == nil || !strings.Contains(err.Error(), "s3://missing-bucket/p") || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("push to a missing bucket: %v", err)
	}
	if _, err := m.Push(context.Background(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a backup repository") {
		t.Fatalf("push of a folder that is no repository: %v", err)
	}
}

// TestPushKeepsOtherData: a push deletes only the repository's own keys,
// and refuses a prefix that holds another repository.
func TestPushKeepsOtherData(t *testing.T) {
	ctx := context.Background()
	endpoint := testServer(t)
	m := newMirror(t, endpoint, "s3://phoenix-backups")
	other := "reports/2026.csv"
	if _, err := m.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(other),
		Body: strings.NewReader("not ours")}); err != nil {
		t.Fatal(err)
	}
	repo := repoWithSnapshot(t)
	if _, err := m.Push(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if keys, _ := m.list(ctx); keys[other] == 0 {
		t.Fatal("push deleted a key that is not the repository's")
	}
	if _, err := m.Push(ctx, repoWithSnapshot(t)); err == nil || !strings.Contains(err.Error(), "another backup repository") {
		t.Fatalf("push of a second repository into the same prefix: %v", err)
	}
	pulled := filepath.Join(t.TempDir(), "pulled")
	if _, err := m.Pull(ctx, pulled); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(pulled, "reports")); !os.IsNotExist(err) {
		t.Fatalf("pull brought data that is not the repository's: %v", err)
	}
}

// TestPushInPartsRestores: files over the single-PUT limit go up as
// multipart uploads (the limit lowered to nothing here, so every file
// does) and the pulled repository restores.
func TestPushInPartsRestores(t *testing.T) {
	ctx := context.Background()
	m := newMirror(t, testServer(t), "s3://phoenix-backups/parts")
	m.single, m.partSize = 0, s3conn.MinPartSize
	repo := repoWithSnapshot(t)
	if rep, err := m.Push(ctx, repo); err != nil || rep.Uploaded < 5 {
		t.Fatalf("push in parts: %+v %v", rep, err)
	}
	pullAndRestore(t, m)
}

// pullAndRestore pulls m into a new folder, restores its latest snapshot
// and checks a file of it; it returns the pulled repository's folder.
func pullAndRestore(t *testing.T, m *S3) string {
	t.Helper()
	ctx := context.Background()
	pulled := filepath.Join(t.TempDir(), "pulled")
	if _, err := m.Pull(ctx, pulled); err != nil {
		t.Fatal(err)
	}
	r, err := backup.Open(ctx, pulled, []byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := r.Restore(ctx, "latest", dst, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "roles.yaml")); string(b) != "roles: {}" {
		t.Fatalf("restored roles.yaml = %q", b)
	}
	return pulled
}
