package artifact

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

func TestRebuildSkipsStoredBlobs(t *testing.T) {
	dir := sampleSite(t)
	store := &countingStore{Backend: newLocal(t)}
	cache := filepath.Join(t.TempDir(), "cache.json")
	opts := BuildOptions{CacheFile: cache, HTMLIntegrity: true}
	m1, err := Build(context.Background(), dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	first := store.puts.Load()
	if first == 0 {
		t.Fatal("first build stored nothing")
	}
	m2, err := Build(context.Background(), dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := store.puts.Load() - first; n != 0 {
		t.Fatalf("re-build put %d blobs, want 0", n)
	}
	if d1, d2 := mustDigest(t, m1), mustDigest(t, m2); d1 == d2 {
		t.Log("same digest (same created second)")
	}
	if !sameFiles(m1, m2) {
		t.Fatal("re-build produced different files")
	}
	// Change one script: its blob, variants and the page embedding its SRI change.
	writeFiles(t, dir, map[string][]byte{"assets/app.js": text("function(){return 2}", 5000)})
	os.Remove(filepath.Join(dir, "assets/app.js.gz"))
	before := store.puts.Load()
	m3, err := Build(context.Background(), dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := store.puts.Load() - before; n != 6 {
		t.Fatalf("after changing one file %d blobs were put, want 6 (js, 2 variants; html, 2 variants)", n)
	}
	idx, _ := m3.Lookup("index.html")
	js, _ := m3.Lookup("assets/app.js")
	if !strings.Contains(string(getBlob(t, store, idx.Digest)), js.Integrity) {
		t.Fatal("index.html not rewritten with the new SRI hash")
	}
}

func mustDigest(t *testing.T, m *Manifest) backend.Digest {
	d, err := m.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameFiles(a, b *Manifest) bool {
	ca, _ := (&Manifest{Version: 1, Files: a.Files}).Canonical()
	cb, _ := (&Manifest{Version: 1, Files: b.Files}).Canonical()
	return bytes.Equal(ca, cb)
}

func TestBuildPreviousLendsVariants(t *testing.T) {
	dir := sampleSite(t)
	store := &countingStore{Backend: newLocal(t)}
	m1, err := Build(context.Background(), dir, store, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := store.puts.Load()
	m2, err := Build(context.Background(), dir, store, BuildOptions{Previous: []*Manifest{m1}})
	if err != nil || store.puts.Load() != n || !sameFiles(m1, m2) {
		t.Fatalf("build with Previous: %v, %d extra puts", err, store.puts.Load()-n)
	}
}

func TestBuildLinkFiles(t *testing.T) {
	dir := sampleSite(t)
	store := newLocal(t)
	m, err := Build(context.Background(), dir, store, BuildOptions{LinkFiles: true, HTMLIntegrity: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		linked bool
	}{{"img/photo.png", true}, {"assets/app.js", true}, {"index.html", false}} {
		f, _ := m.Lookup(tc.path)
		bp, err := store.Path(f.Digest)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.Stat(bp)
		b, _ := os.Stat(filepath.Join(dir, tc.path))
		if os.SameFile(a, b) != tc.linked {
			t.Errorf("%s: linked = %v, want %v (rewritten HTML must be copied)", tc.path, !tc.linked, tc.linked)
		}
	}
	if probs, err := VerifyWith(context.Background(), m, nil, nil, store, VerifyOptions{}); err != nil || len(probs) != 1 {
		t.Fatalf("Verify: %v %v (want only the unsigned problem)", probs, err)
	}
}

func TestDamagedCacheIsIgnored(t *testing.T) {
	dir := sampleSite(t)
	cache := filepath.Join(t.TempDir(), "cache")
	for name, data := range map[string][]byte{"garbage": []byte("not a cache"), "empty": nil, "truncated gob": {0x1f, 0xff, 0x81}} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(cache, data, 0o644)
			m, err := Build(context.Background(), dir, newLocal(t), BuildOptions{CacheFile: cache})
			if err != nil || len(m.Files) == 0 {
				t.Fatalf("Build with a damaged cache: %v", err)
			}
			if c := loadCache(cache, "br=3 gz=6"); len(c.Files) != len(m.Files)+1 {
				t.Fatalf("cache not rewritten: %d entries for %d files (+1 sibling)", len(c.Files), len(m.Files))
			}
		})
	}
}

func TestLinkedFilesStayCached(t *testing.T) {
	old := racyWindow
	racyWindow = 0 // the files were just written; no sleeping in tests
	t.Cleanup(func() { racyWindow = old })
	dir := sampleSite(t)
	store := newLocal(t)
	cache := filepath.Join(t.TempDir(), "cache")
	opts := BuildOptions{CacheFile: cache, LinkFiles: true}
	rebuild := func(changed string) {
		t.Helper()
		before := loadCache(cache, "br=3 gz=6")
		if _, err := Build(context.Background(), dir, store, opts); err != nil {
			t.Fatal(err)
		}
		after := loadCache(cache, "br=3 gz=6")
		for rel, e := range after.Files {
			if rehashed := before.Files[rel].Hashed != e.Hashed; rehashed != (rel == changed) {
				t.Errorf("%s: re-hashed = %v", rel, rehashed)
			}
		}
	}
	if _, err := Build(context.Background(), dir, store, opts); err != nil {
		t.Fatal(err)
	}
	rebuild("")
	p := filepath.Join(dir, "docs/tiny.txt")
	os.Remove(p)
	os.WriteFile(p, []byte("changed"), 0o644)
	rebuild("docs/tiny.txt")
}

func TestBuildStreamsLargeFiles(t *testing.T) {
	old := maxInMemory
	maxInMemory = 1000
	t.Cleanup(func() { maxInMemory = old })
	dir := t.TempDir()
	big := text("var x=1;", 5000)
	writeFiles(t, dir, map[string][]byte{"big.js": big, "big.js.gz": gz(t, big), "small.txt": []byte("small")})
	cache := filepath.Join(t.TempDir(), "cache")
	for _, link := range []bool{false, true} {
		store := newLocal(t)
		m, err := Build(context.Background(), dir, store, BuildOptions{CacheFile: cache, LinkFiles: link})
		if err != nil {
			t.Fatal(err)
		}
		f, ok := m.Lookup("big.js")
		if !ok || f.Digest != backend.Sum(big) || f.Integrity != sri384(big) || len(f.Variants) != 0 {
			t.Fatalf("big.js = %+v", f)
		}
		if _, ok := m.Lookup("big.js.gz"); !ok {
			t.Fatal("sibling of a streamed file was dropped")
		}
		if !bytes.Equal(getBlob(t, store, f.Digest), big) {
			t.Fatal("streamed blob differs")
		}
		bp, _ := store.Path(f.Digest)
		a, _ := os.Stat(bp)
		b, _ := os.Stat(filepath.Join(dir, "big.js"))
		if os.SameFile(a, b) != link {
			t.Fatalf("LinkFiles=%v but linked=%v", link, !link)
		}
	}
}
