package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testKDF keeps argon2id cheap in tests.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var testPass = []byte("correct horse battery staple")

// newRepo initialises a repository in a fresh temporary directory.
func newRepo(t *testing.T) (*Repo, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	r, err := Init(context.Background(), dir, testPass, testKDF)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// file is what a test expects to find in a tree.
type file struct {
	data []byte
	mode fs.FileMode
}

// writeFile writes data at rel under root with mode, creating parents.
func writeFile(t *testing.T, root, rel string, data []byte, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// addBlob stores data as a content-addressed blob and returns its path.
func addBlob(t *testing.T, root string, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	rel := "blobs/sha256/" + h[:2] + "/" + h
	writeFile(t, root, rel, data, 0o444)
	return rel
}

// dataDir builds a small Phoenix data dir and returns it with the files a
// restore must give back (runtime files and the symlink are left out).
func dataDir(t *testing.T) (string, map[string]file) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "data")
	want := map[string]file{
		"state.db":          {[]byte("SQLite format 3\x00 not really"), 0o600},
		"admin.token":       {[]byte("phx_secret_token\n"), 0o600},
		"roles.yaml":        {[]byte("roles: []\n"), 0o644},
		"keys/signing.key":  {[]byte("signing key bytes"), 0o600},
		"keys/audit.key":    {[]byte("audit key bytes"), 0o600},
		"runs/1/log.txt":    {[]byte("step 1 ok\n"), 0o640},
		"runs/1/cargo.lock": {[]byte("a lock file deep inside is data\n"), 0o644},
		"empty.txt":         {nil, 0o600},
	}
	for rel, f := range want {
		writeFile(t, root, rel, f.data, f.mode)
	}
	for _, b := range [][]byte{[]byte("blob one"), []byte("blob two"), bytes.Repeat([]byte("x"), 3*chunkSize+5)} {
		want[addBlob(t, root, b)] = file{b, 0o444}
	}
	for _, rel := range []string{"phoenix.lock", "lock", "server.json", "server.json.tmp", "server-info.json",
		"state.db-wal", "state.db-shm", "state.db-journal", "blobs/sha256/.tmp-123", ".tmp-x/y", "tools/npm/bin/npm"} {
		writeFile(t, root, rel, nil, 0o600)
	}
	if err := os.Symlink("roles.yaml", filepath.Join(root, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	return root, want
}

// readTree reads every regular file under root; it fails on anything else
// but directories.
func readTree(t *testing.T, root string) map[string]file {
	t.Helper()
	got := map[string]file{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			t.Errorf("%s: not a regular file", p)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = file{b, fi.Mode().Perm()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// sameTree compares two trees byte for byte and mode for mode.
func sameTree(t *testing.T, got, want map[string]file) {
	t.Helper()
	for rel, w := range want {
		g, ok := got[rel]
		switch {
		case !ok:
			t.Errorf("%s: missing", rel)
		case !bytes.Equal(g.data, w.data):
			t.Errorf("%s: content differs (%d bytes, want %d)", rel, len(g.data), len(w.data))
		case g.mode != w.mode:
			t.Errorf("%s: mode %o, want %o", rel, g.mode, w.mode)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: restored but not expected", rel)
		}
	}
}

// fixedNow returns a clock for CreateOptions.Now.
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

// create backs up data with default options at time at.
func create(t *testing.T, r *Repo, data string, at time.Time) *Snapshot {
	t.Helper()
	s, err := r.Create(context.Background(), CreateOptions{DataDir: data, Host: "test", Server: testServer, Version: "v0.0.0-test", Now: fixedNow(at)})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

// storeFiles lists the object files of a repository's store.
func storeFiles(t *testing.T, repo, store string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(repo, store), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return err
	})
	return out
}

// testServer is the server identity create records.
const testServer = "srv-test"
