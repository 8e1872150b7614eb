package artifact

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// cacheVersion changes whenever the cache file format or what it records
// changes; an older cache is ignored.
const cacheVersion = 1

// racyWindow: a file modified this close to when it was hashed may change
// again without its mtime changing, so its entry is not trusted (git's
// "racy clean" rule).
var racyWindow = 2 * time.Second

// buildCache (a gob file) remembers, between builds of the same folder, each file's
// digest by its stat data and each content's variants by its digest, so a
// re-build only reads and compresses what changed.
type buildCache struct {
	Version  int                          `json:"version"`
	Settings string                       `json:"settings"` // compression settings the variants were made with
	Files    map[string]cacheEntry        `json:"files"`
	Variants map[backend.Digest]genRecord `json:"variants"`
}

// genRecord remembers which encodings were tried for some content and which
// variants were kept.
type genRecord struct {
	Tried    []string  `json:"tried"`
	Variants []Variant `json:"variants,omitempty"`
}

type relEntry struct {
	rel   string
	entry cacheEntry
}

type cacheEntry struct {
	Stat      statKey        `json:"stat"`
	Hashed    int64          `json:"hashed"` // unix ns when the file was read
	Digest    backend.Digest `json:"digest"`
	Size      int64          `json:"size"`
	Type      string         `json:"type"`
	Integrity string         `json:"integrity,omitempty"`
	// VariantOf is set for a .gz/.br sibling checked to be the Encoding
	// variant of the content with this digest.
	VariantOf backend.Digest `json:"variantOf,omitempty"`
	Encoding  string         `json:"encoding,omitempty"`
	// Linked files are the blob itself (a hard link, read-only): the stat is
	// taken after linking and the racy-clean rule does not apply.
	Linked bool `json:"linked,omitempty"`
	// Refs are the SRI hashes an HTML file was rewritten with, by path.
	Refs map[string]string `json:"refs,omitempty"`
}

// statKey identifies a file version without reading it.
type statKey struct {
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"`
	Ctime int64  `json:"ctime"`
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

func newCache(settings string) *buildCache {
	return &buildCache{Version: cacheVersion, Settings: settings,
		Files: map[string]cacheEntry{}, Variants: map[backend.Digest]genRecord{}}
}

// loadCache reads the cache at path; a missing, damaged or outdated cache
// gives an empty one (the build then just does all the work).
func loadCache(path, settings string) *buildCache {
	c := newCache(settings)
	if path == "" {
		return c
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	var old buildCache
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&old) != nil || old.Version != cacheVersion || old.Files == nil {
		return c
	}
	c.Files = old.Files
	if old.Settings == settings && old.Variants != nil {
		c.Variants = old.Variants
	}
	return c
}

// lookup returns the cached entry for rel if the file is unchanged.
func (c *buildCache) lookup(rel string, st statKey) (cacheEntry, bool) {
	e, ok := c.Files[rel]
	if e.Linked {
		// The store's commit renames the link, which bumps the ctime again.
		st.Ctime = e.Stat.Ctime
	}
	if !ok || e.Stat != st || e.Digest.Validate() != nil {
		return cacheEntry{}, false
	}
	if !e.Linked && (e.Hashed-st.Mtime < int64(racyWindow) || e.Hashed-st.Ctime < int64(racyWindow)) {
		return cacheEntry{}, false
	}
	return e, true
}

// save writes the cache atomically next to path.
func (c *buildCache) save(path string) error {
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("save build cache: %w", err)
	}
	data := buf.Bytes()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save build cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cache-*")
	if err != nil {
		return fmt.Errorf("save build cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save build cache %s: %w", path, err)
	}
	return nil
}

func statOf(info fs.FileInfo) statKey {
	k := statKey{Size: info.Size(), Mtime: info.ModTime().UnixNano()}
	sysStat(info, &k)
	return k
}
