package backup

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"
)

func TestDedup(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	first := create(t, r, data, at)
	before := len(storeFiles(t, repo, "objects"))
	if first.Added <= first.Size {
		t.Errorf("first snapshot added %d stored bytes for %d plaintext bytes", first.Added, first.Size)
	}

	blob := bytes.Repeat([]byte("new blob "), 200)
	rel := addBlob(t, data, blob)
	db := []byte("SQLite format 3\x00 changed since")
	writeFile(t, data, "state.db", db, 0o600)
	second := create(t, r, data, at.Add(time.Hour))

	if n := len(storeFiles(t, repo, "objects")); n != before+2 {
		t.Errorf("objects grew from %d to %d, want +2 (the blob and state.db)", before, n)
	}
	low := int64(len(blob) + len(db))
	if second.Added <= low || second.Added >= low+1024 {
		t.Errorf("second snapshot added %d stored bytes, want just over %d", second.Added, low)
	}
	if second.Added != storedSize(int64(len(blob)))+storedSize(int64(len(db))) {
		t.Errorf("Added = %d, want the two new objects' size", second.Added)
	}
	if e := findEntry(second, rel); e == nil || e.Size != int64(len(blob)) {
		t.Errorf("new blob entry = %+v", e)
	}
}

// A blob already in the repository is recognised by its name and not read
// again: altering the file in place (which a blob store never does) does
// not change what the next snapshot records.
func TestDedupTrustsBlobNames(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	rel := addBlob(t, data, []byte("immutable blob"))
	first := create(t, r, data, time.Now())
	before := len(storeFiles(t, repo, "objects"))
	p := filepath.Join(data, filepath.FromSlash(rel))
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte("altered"), 0o644)
	second := create(t, r, data, time.Now())
	if n := len(storeFiles(t, repo, "objects")); n != before || second.Added != 0 {
		t.Errorf("objects %d -> %d, added %d: the known blob was stored again", before, n, second.Added)
	}
	if a, b := findEntry(first, rel), findEntry(second, rel); a == nil || b == nil || a.Object != b.Object || b.Digest != "sha256:"+path.Base(rel) {
		t.Errorf("entries %+v and %+v differ", a, b)
	}
}

// Files with equal content in one snapshot share one object.
func TestDedupWithinSnapshot(t *testing.T) {
	r, _ := newRepo(t)
	data := t.TempDir()
	writeFile(t, data, "a", []byte("same"), 0o600)
	writeFile(t, data, "b/c", []byte("same"), 0o644)
	s := create(t, r, data, time.Now())
	if len(s.Files) != 2 || s.Files[0].Object != s.Files[1].Object || s.Added != storedSize(4) {
		t.Errorf("files %+v, added %d", s.Files, s.Added)
	}
}

func findEntry(s *Snapshot, rel string) *Entry {
	for i := range s.Files {
		if s.Files[i].Path == rel {
			return &s.Files[i]
		}
	}
	return nil
}
