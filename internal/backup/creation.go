package backup

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// creation is one Create in progress.
type creation struct {
	r        *Repo
	mu       sync.Mutex                        // guards known and inflight
	known    map[backend.Digest]backend.Digest // plaintext digest -> stored object
	inflight map[backend.Digest]*pending       // contents a worker is storing now
	batch    backend.Batch
	prog     meter
	added    atomic.Int64
	corrupt  []CorruptBlob // blobs left out; guarded by mu
}

// newCreation indexes what the repository already holds: the plaintext
// digests of the newest readable snapshot whose objects still exist. The
// newest is enough: each snapshot is a whole data dir, and blobs stay in
// the data dir as long as any retained deployment uses them. Reading one
// file list instead of every snapshot's keeps a backup's cost flat as
// snapshots accumulate; a snapshot that cannot be read only costs
// deduplication.
func (r *Repo) newCreation(ctx context.Context, fn func(done, total int64), files []source) (*creation, error) {
	objects, err := r.objectSet(ctx)
	if err != nil {
		return nil, err
	}
	base, err := r.newestReadable(ctx)
	if err != nil {
		return nil, err
	}
	c := &creation{r: r, known: map[backend.Digest]backend.Digest{}, inflight: map[backend.Digest]*pending{}, prog: meter{fn: fn}}
	if base != nil {
		for _, e := range base.Files {
			if obj := backend.Digest(e.Object); objects[obj] {
				c.known[backend.Digest(e.Digest)] = obj
			}
		}
	}
	for _, f := range files {
		c.prog.total += f.size
	}
	return c, nil
}

// run stores the files, commits them, and writes the snapshot last.
func (c *creation) run(ctx context.Context, files []source, s *Snapshot) (*Snapshot, error) {
	c.batch = c.r.objects.Batch()
	if err := c.storeAll(ctx, files, s); err != nil {
		c.batch.Abort()
		return nil, err
	}
	if err := c.batch.Commit(ctx); err != nil {
		return nil, err
	}
	s.Added = c.added.Load()
	if err := c.r.saveSnapshot(ctx, s); err != nil {
		return nil, err
	}
	s.Corrupt = c.corrupt
	slices.SortFunc(s.Corrupt, func(a, b CorruptBlob) int { return strings.Compare(a.Path, b.Path) })
	return s, nil
}

// storeAll stores every file into the batch, several at once, and lists
// them in s in walk order.
func (c *creation) storeAll(ctx context.Context, files []source, s *Snapshot) error {
	entries, ok := make([]Entry, len(files)), make([]bool, len(files))
	err := forEach(ctx, len(files), func(ctx context.Context, i int) (err error) {
		entries[i], ok[i], err = c.store(ctx, files[i])
		return err
	})
	if err != nil {
		return err
	}
	for i, e := range entries {
		if ok[i] {
			s.Files = append(s.Files, e)
			s.Size += e.Size
		}
	}
	return nil
}

// newestReadable loads the newest snapshot that reads back whole, or nil.
func (r *Repo) newestReadable(ctx context.Context) (*Snapshot, error) {
	heads, _, err := r.heads(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		s, err := r.loadSnapshot(ctx, h.ID)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return nil, err
		}
	}
	return nil, nil
}

// pending is a content one worker is storing; others with the same
// content wait for its object instead of storing a second copy.
type pending struct {
	done chan struct{}
	obj  backend.Digest // set before done closes; "" if storing failed
}

// claim returns the object already holding content d, waiting for a
// worker that is storing it now; or, when none is, registers this worker
// as the one storing d (mine != nil: call finish).
func (c *creation) claim(ctx context.Context, d backend.Digest) (obj backend.Digest, mine *pending, err error) {
	c.mu.Lock()
	if obj := c.known[d]; obj != "" {
		c.mu.Unlock()
		return obj, nil, nil
	}
	if p := c.inflight[d]; p != nil {
		c.mu.Unlock()
		select {
		case <-p.done:
			return p.obj, nil, nil
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	}
	p := &pending{done: make(chan struct{})}
	c.inflight[d] = p
	c.mu.Unlock()
	return "", p, nil
}

// finish records the object that now holds content d ("" on failure)
// and wakes the workers waiting for it.
func (c *creation) finish(d backend.Digest, p *pending, obj backend.Digest) {
	c.mu.Lock()
	delete(c.inflight, d)
	if obj != "" {
		c.known[d] = obj
	}
	p.obj = obj
	c.mu.Unlock()
	close(p.done)
}

// store backs up one file, reusing a stored object with the same content.
// ok is false for a file that disappeared since the walk.
func (c *creation) store(ctx context.Context, f source) (Entry, bool, error) {
	digest, size := f.nameDigest(), f.size
	if !f.blob {
		var err error
		if digest, size, err = hashFile(ctx, f.abs); errors.Is(err, fs.ErrNotExist) {
			return Entry{}, false, nil
		} else if err != nil {
			return Entry{}, false, err
		}
	}
	obj, mine, err := c.claim(ctx, digest)
	if err != nil {
		return Entry{}, false, err
	}
	if obj != "" {
		c.prog.add(size)
		return entry(f, digest, size, obj), true, nil
	}
	e, ok, err := c.put(ctx, f)
	if mine != nil {
		var stored backend.Digest
		if ok && err == nil && e.Digest == digest.String() {
			stored = backend.Digest(e.Object)
		}
		c.finish(digest, mine, stored)
	}
	return e, ok, err
}

// put encrypts and stores one file.
func (c *creation) put(ctx context.Context, f source) (Entry, bool, error) {
	in, err := os.Open(f.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	} else if err != nil {
		return Entry{}, false, err
	}
	defer in.Close()
	var want backend.Digest
	if f.blob {
		want = f.nameDigest()
	}
	sl, err := c.r.putObject(ctx, c.batch, c.prog.reader(in), f.size, want)
	if errors.Is(err, errNotItsName) {
		// A blob that no longer holds what its name says (bit rot, an
		// edit) is left out rather than stored as if it did: a restore
		// would serve it under the good digest's ETag and SRI hash. The
		// rest of the snapshot goes on; the caller reports the blob.
		c.mu.Lock()
		c.corrupt = append(c.corrupt, CorruptBlob{Path: f.rel, Name: want.String(), Actual: sl.digest.String()})
		c.mu.Unlock()
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	c.mu.Lock()
	c.known[sl.digest] = sl.object
	c.mu.Unlock()
	c.added.Add(sl.stored)
	return entry(f, sl.digest, sl.size, sl.object), true, nil
}

func entry(f source, digest backend.Digest, size int64, obj backend.Digest) Entry {
	return Entry{Path: f.rel, Mode: f.mode, Size: size, Digest: digest.String(), Object: obj.String()}
}

// hashFile returns the sha256 digest and size of the file at p.
func hashFile(ctx context.Context, p string) (backend.Digest, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := backend.NewHash()
	n, err := io.Copy(h, backend.ContextReader(ctx, f))
	if err != nil {
		return "", 0, err
	}
	return sumDigest(h), n, nil
}
