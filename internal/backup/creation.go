package backup

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// creation is one Create in progress.
type creation struct {
	r     *Repo
	known map[backend.Digest]backend.Digest // plaintext digest -> stored object
	batch backend.Batch
	prog  meter
	added int64
}

// newCreation indexes what the repository already holds: the plaintext
// digests of all snapshots whose objects still exist. A snapshot that
// cannot be read only costs deduplication.
func (r *Repo) newCreation(ctx context.Context, fn func(done, total int64), files []source) (*creation, error) {
	objects, err := r.objectSet(ctx)
	if err != nil {
		return nil, err
	}
	snaps, err := r.loadAll(ctx, true)
	if err != nil {
		return nil, err
	}
	c := &creation{r: r, known: map[backend.Digest]backend.Digest{}, prog: meter{fn: fn}}
	for _, s := range snaps {
		for _, e := range s.Files {
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
	s.Added = c.added
	if err := c.r.saveSnapshot(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// storeAll stores every file into the batch and lists it in s.
func (c *creation) storeAll(ctx context.Context, files []source, s *Snapshot) error {
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, ok, err := c.store(ctx, f)
		if err != nil {
			return err
		}
		if ok {
			s.Files = append(s.Files, e)
			s.Size += e.Size
		}
	}
	return nil
}

// store backs up one file, reusing a stored object with the same content.
// ok is false for a file that disappeared since the walk.
func (c *creation) store(ctx context.Context, f source) (Entry, bool, error) {
	if f.blob {
		if obj := c.known[f.nameDigest()]; obj != "" {
			c.prog.add(f.size)
			return entry(f, f.nameDigest(), f.size, obj), true, nil
		}
		return c.put(ctx, f)
	}
	digest, size, err := hashFile(ctx, f.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	} else if err != nil {
		return Entry{}, false, err
	}
	if obj := c.known[digest]; obj != "" {
		c.prog.add(size)
		return entry(f, digest, size, obj), true, nil
	}
	return c.put(ctx, f)
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
	sl, err := c.r.putObject(ctx, c.batch, c.prog.reader(in), f.size)
	if err != nil {
		return Entry{}, false, err
	}
	c.known[sl.digest] = sl.object
	c.added += sl.stored
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
