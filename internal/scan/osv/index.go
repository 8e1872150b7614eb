package osv

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Files inside the index folder.
const (
	IndexFile = "index.bin"
	MetaFile  = "meta.json"
	magic     = "PHXOSV1\n"
)

// Meta describes an imported database.
type Meta struct {
	Format     int            `json:"format"`
	ImportedAt time.Time      `json:"imported_at"`
	Source     string         `json:"source"`
	Newest     time.Time      `json:"newest_modified"` // newest "modified" among the advisories
	Advisories int            `json:"advisories"`
	Withdrawn  int            `json:"withdrawn"`
	Packages   int            `json:"packages"`
	Ecosystems map[string]int `json:"ecosystems"`
	Problems   []string       `json:"problems,omitempty"` // files skipped, each naming the file and the entry
}

// UnmarshalJSON reads meta.json, also as imports before imported_at
// wrote it (importedAt, newestModified): a database an older phoenix
// imported keeps its age.
func (m *Meta) UnmarshalJSON(b []byte) error {
	type plain Meta
	var v struct {
		plain
		OldImportedAt time.Time `json:"importedAt"`
		OldNewest     time.Time `json:"newestModified"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Meta(v.plain)
	if m.ImportedAt.IsZero() {
		m.ImportedAt = v.OldImportedAt
	}
	if m.Newest.IsZero() {
		m.Newest = v.OldNewest
	}
	return nil
}

// DB is an opened index. Lookup is safe for concurrent use.
type DB struct {
	Meta Meta
	dir  string
	f    *os.File
	keys map[string]span
	mu   sync.Mutex
	memo map[string][]Record
}

type span struct{ off, n int64 }

// writeIndex writes the index file: magic, a uvarint count, then for each
// key (sorted) uvarint key length, key, uvarint offset, uvarint length,
// followed by the data area of JSON arrays of records per key.
func writeIndex(path string, byKey map[string][]Record) error {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	blobs := make([][]byte, len(keys))
	for i, k := range keys {
		b, err := json.Marshal(byKey[k])
		if err != nil {
			return fmt.Errorf("encoding %q: %w", k, err)
		}
		blobs[i] = b
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(magic)
	var tmp [binary.MaxVarintLen64]byte
	put := func(x uint64) { w.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	put(uint64(len(keys)))
	off := uint64(0)
	for i, k := range keys {
		put(uint64(len(k)))
		w.WriteString(k)
		put(off)
		put(uint64(len(blobs[i])))
		off += uint64(len(blobs[i]))
	}
	for _, b := range blobs {
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ErrNoDatabase means the folder holds no imported database.
var ErrNoDatabase = errors.New("no advisory database; run phoenix advisories import PATH")

// Open reads the meta file and the key table of the index in dir. Records
// are read later, per package, by Lookup. Close the DB when done.
func Open(dir string) (*DB, error) {
	mb, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoDatabase)
	}
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, memo: map[string][]Record{}}
	if err := json.Unmarshal(mb, &db.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetaFile), err)
	}
	path := filepath.Join(dir, IndexFile)
	if db.f, err = os.Open(path); err != nil {
		return nil, err
	}
	if err := db.readKeys(); err != nil {
		db.f.Close()
		return nil, fmt.Errorf("%s: corrupt index (%w); import the advisories again", path, err)
	}
	return db, nil
}

func (db *DB) readKeys() error {
	r := bufio.NewReaderSize(db.f, 1<<20)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != magic {
		return fmt.Errorf("bad header")
	}
	read := 0
	get := func() (uint64, error) {
		x, err := binary.ReadUvarint(countingReader{r, &read})
		return x, err
	}
	n, err := get()
	if err != nil || n > 1<<26 {
		return fmt.Errorf("bad key count")
	}
	db.keys = make(map[string]span, n)
	buf := make([]byte, 0, 256)
	for i := uint64(0); i < n; i++ {
		kl, err := get()
		if err != nil || kl > 1<<16 {
			return fmt.Errorf("bad key %d", i)
		}
		buf = buf[:kl]
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		read += int(kl)
		off, err1 := get()
		ln, err2 := get()
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad span of key %d", i)
		}
		db.keys[string(buf)] = span{int64(off), int64(ln)}
	}
	base := int64(len(magic) + read)
	for k, s := range db.keys {
		db.keys[k] = span{s.off + base, s.n}
	}
	return nil
}

type countingReader struct {
	r *bufio.Reader
	n *int
}

func (c countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		*c.n++
	}
	return b, err
}

// Lookup returns the records for one package (withdrawn ones included;
// callers skip them).
func (db *DB) Lookup(ecosystem, name string) ([]Record, error) {
	key := Key(ecosystem, name)
	s, ok := db.keys[key]
	if !ok {
		return nil, nil
	}
	db.mu.Lock()
	recs, ok := db.memo[key]
	db.mu.Unlock()
	if ok {
		return recs, nil
	}
	buf := make([]byte, s.n)
	if _, err := db.f.ReadAt(buf, s.off); err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", db.dir, name, err)
	}
	if err := json.Unmarshal(buf, &recs); err != nil {
		return nil, fmt.Errorf("%s: corrupt records for %s: %w", db.dir, name, err)
	}
	db.mu.Lock()
	db.memo[key] = recs
	db.mu.Unlock()
	return recs, nil
}

// Age is how long ago the database was imported.
func (db *DB) Age(now time.Time) time.Duration { return now.Sub(db.Meta.ImportedAt) }

// StaleWarning returns a warning when the database is older than maxAge
// (0 disables the check), or "".
func (db *DB) StaleWarning(now time.Time, maxAge time.Duration) string {
	if maxAge <= 0 || db.Age(now) <= maxAge {
		return ""
	}
	age, limit := inUnitOf(db.Age(now), maxAge)
	return fmt.Sprintf("advisory database imported %s (%s ago, limit %s); import a fresh one with phoenix advisories import",
		db.Meta.ImportedAt.Format(time.RFC3339), age, limit)
}

// inUnitOf writes age and limit in the largest unit (days, hours, minutes,
// seconds) that limit is a whole number of, so "--max-age 36h" reads
// "limit 36 hours" and a limit under a day is not "0 days".
func inUnitOf(age, limit time.Duration) (string, string) {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if limit >= u.d && limit%u.d == 0 {
			return count(int64(age/u.d), u.name), count(int64(limit/u.d), u.name)
		}
	}
	return age.String(), limit.String()
}

func count(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Close releases the index file.
func (db *DB) Close() error { return db.f.Close() }
