package artifact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
)

// BuildFile builds dir and writes the release as one archive at outPath
// (`phoenix artifact build DIR --out FILE`), signed with key unless key is
// nil. Blobs go to store; with a nil store a temporary store next to
// outPath is used and removed afterwards (pass the server's store, and
// opts.CacheFile, to make repeated builds cheap). outPath appears only when
// complete.
func BuildFile(ctx context.Context, dir, outPath string, key *sign.PrivateKey, store backend.Backend, opts BuildOptions) (*Manifest, error) {
	if store == nil {
		tmp, err := os.MkdirTemp(filepath.Dir(outPath), ".phoenix-build-*")
		if err != nil {
			return nil, fmt.Errorf("build %s: temporary store: %w", dir, err)
		}
		defer os.RemoveAll(tmp)
		if store, err = local.New(tmp); err != nil {
			return nil, err
		}
	}
	m, err := Build(ctx, dir, store, opts)
	if err != nil {
		return nil, err
	}
	var sig []byte
	if key != nil {
		if sig, err = Sign(m, *key); err != nil {
			return nil, err
		}
	}
	err = writeAtomic(outPath, func(w io.Writer) error { return Export(ctx, w, m, sig, store) })
	if err != nil {
		return nil, err
	}
	return m, nil
}

// writeAtomic writes a file through a temporary name, fsyncs and renames it.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// VerifyFile checks an archive (`phoenix artifact verify FILE`) without
// writing anything: every entry is read and every blob hashed, the archive
// must be complete, and the signature must verify with pub (nil pub is a
// problem). It returns the manifest and the archive's signature (nil if
// the archive is unreadable, the signature also if it has none) and the
// problems found; the error is for failures to check at all.
func VerifyFile(ctx context.Context, path string, pub *sign.PublicKey) (*Manifest, []byte, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	store := newDiscardStore()
	m, sig, err := Import(ctx, f, store) // a file: read twice if need be, through a buffer
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		return nil, nil, []Problem{{Err: fmt.Errorf("%s: %w", path, err)}}, nil
	}
	probs, err := VerifyWith(ctx, m, sig, pub, store, VerifyOptions{SkipContent: true})
	return m, sig, probs, err
}

// discardStore checks blobs and forgets their bytes: an Import into it
// verifies an archive without writing anything.
type discardStore struct {
	mu    sync.Mutex
	sizes map[backend.Digest]int64
}

var _ backend.Backend = (*discardStore)(nil)

func newDiscardStore() *discardStore { return &discardStore{sizes: map[backend.Digest]int64{}} }

func (s *discardStore) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	if err := d.Validate(); err != nil {
		return err
	}
	n, err := backend.CopyVerified(ctx, io.Discard, r, d, size)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sizes[d] = n
	s.mu.Unlock()
	return nil
}

func (s *discardStore) Stat(_ context.Context, d backend.Digest) (backend.Info, error) {
	if err := d.Validate(); err != nil {
		return backend.Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.sizes[d]
	if !ok {
		return backend.Info{}, fmt.Errorf("stat %s: %w", d, backend.ErrNotFound)
	}
	return backend.Info{Digest: d, Size: n}, nil
}

var errDiscarded = errors.New("content was checked and discarded")

func (s *discardStore) Get(_ context.Context, d backend.Digest) (io.ReadCloser, error) {
	return nil, fmt.Errorf("get %s: %w", d, errDiscarded)
}

func (s *discardStore) List(ctx context.Context, fn func(backend.Digest) error) error {
	s.mu.Lock()
	ds := make([]backend.Digest, 0, len(s.sizes))
	for d := range s.sizes {
		ds = append(ds, d)
	}
	s.mu.Unlock()
	for _, d := range ds {
		if err := fn(d); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *discardStore) Delete(_ context.Context, d backend.Digest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sizes[d]; !ok {
		return fmt.Errorf("delete %s: %w", d, backend.ErrNotFound)
	}
	delete(s.sizes, d)
	return nil
}
