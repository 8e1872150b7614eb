// Package local is the blob backend on a local filesystem. Blobs live at
// <root>/sha256/<first two hex digits>/<hex>, are written to a temporary file
// in the same directory, checked against their digest, fsynced and renamed,
// and the directory is fsynced, so a crash leaves either no blob or the whole
// blob. Leftover temporary files from a crash are removed by Sweep.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// tmpPrefix starts the name of every temporary file; List skips such files
// and Sweep deletes old ones.
const tmpPrefix = ".tmp-"

// Store is a local-disk backend. It is safe for concurrent use by many
// goroutines and processes sharing the same root.
type Store struct {
	root string
	now  atomic.Pointer[func() time.Time] // nil: the wall clock (settle.go)
}

var (
	_ backend.Backend = (*Store)(nil)
	_ backend.Pather  = (*Store)(nil)
	_ backend.Batcher = (*Store)(nil)
)

// New opens (creating if needed) a store rooted at dir.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, backend.Algorithm), 0o755); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	return &Store{root: abs}, nil
}

// Root returns the store's absolute root directory.
func (s *Store) Root() string { return s.root }

// blobPath returns where d lives, after checking d.
func (s *Store) blobPath(d backend.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	h := d.Hex()
	return filepath.Join(s.root, backend.Algorithm, h[:2], h), nil
}

// Path returns the file holding d, for read-only use such as sendfile.
func (s *Store) Path(d backend.Digest) (string, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", notFound("path", d, err)
	}
	return p, nil
}

// Put stores r under d; see backend.Backend.
func (s *Store) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	final, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if ok, err := present(final); ok || err != nil {
		return err
	}
	tmp, err := s.writeTemp(ctx, final, d, r, size, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put %s: %w", d, err)
	}
	return syncDir(filepath.Dir(final))
}

// writeTemp writes and checks the blob in a temporary file next to final and
// returns its name. On error nothing is left behind.
func (s *Store) writeTemp(ctx context.Context, final string, d backend.Digest, r io.Reader, size int64, fsync bool) (string, error) {
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("put %s: %w", d, err)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+filepath.Base(final)+"-*")
	if err != nil {
		return "", fmt.Errorf("put %s: %w", d, err)
	}
	if _, err = backend.CopyVerified(ctx, f, r, d, size); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := finishTemp(f, fsync); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("put %s: %w", d, err)
	}
	return f.Name(), nil
}

// finishTemp optionally fsyncs, closes and write-protects a finished blob.
func finishTemp(f *os.File, fsync bool) error {
	var err error
	if fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o444)
	}
	return err
}

// Get opens d for reading.
func (s *Store) Get(ctx context.Context, d backend.Digest) (io.ReadCloser, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound("get", d, err)
	}
	return f, nil
}

// Stat reports d's size.
func (s *Store) Stat(ctx context.Context, d backend.Digest) (backend.Info, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return backend.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return backend.Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return backend.Info{}, notFound("stat", d, err)
	}
	return backend.Info{Digest: d, Size: fi.Size()}, nil
}

// Delete removes d.
func (s *Store) Delete(ctx context.Context, d backend.Digest) error {
	p, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return notFound("delete", d, err)
	}
	return syncDir(filepath.Dir(p))
}

// List calls fn for every stored blob. Files that are not blobs (temporary
// files, strays) are skipped.
func (s *Store) List(ctx context.Context, fn func(backend.Digest) error) error {
	top := filepath.Join(s.root, backend.Algorithm)
	shards, err := os.ReadDir(top)
	if err != nil {
		return fmt.Errorf("list %s: %w", top, err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		if err := s.listShard(ctx, filepath.Join(top, sh.Name()), sh.Name(), fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) listShard(ctx context.Context, dir, shard string, fn func(backend.Digest) error) error {
	names, err := readNames(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := backend.Digest(backend.Algorithm + ":" + n)
		if !strings.HasPrefix(n, shard) || d.Validate() != nil {
			continue
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Sweep removes temporary files older than olderThan that a crashed or killed
// writer left behind, and returns how many it removed. Temporary files of
// writers still running are younger than any sensible olderThan (an hour).
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := s.clock().Add(-olderThan)
	n := 0
	err := filepath.WalkDir(filepath.Join(s.root, backend.Algorithm), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tmpPrefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(p); err == nil {
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("sweep %s: %w", s.root, err)
	}
	return n, nil
}

func notFound(op string, d backend.Digest, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s: %w", op, d, backend.ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w", op, d, err)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
