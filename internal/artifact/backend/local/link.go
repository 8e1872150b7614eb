package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

var _ backend.Linker = (*Store)(nil)

// Link takes the file at path into the store as a hard link: no bytes are
// copied. The linked file is hashed and checked against d before it becomes
// visible, and made read-only.
func (s *Store) Link(ctx context.Context, d backend.Digest, path string) error {
	final, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if ok, err := present(final); ok || err != nil {
		return err
	}
	tmp, err := s.linkTemp(ctx, final, d, path, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link %s: %w", d, err)
	}
	return syncDir(filepath.Dir(final))
}

// linkTemp links path to a temporary name next to final and checks it.
func (s *Store) linkTemp(ctx context.Context, final string, d backend.Digest, path string, fsync bool) (string, error) {
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("link %s: %w", d, err)
	}
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-l%d", tmpPrefix, d.Hex(), randomSuffix()))
	if err := os.Link(path, tmp); err != nil {
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) {
			return "", fmt.Errorf("link %s from %s: %w: %v", d, path, backend.ErrCannotLink, err)
		}
		return "", fmt.Errorf("link %s from %s: %w", d, path, err)
	}
	if err := checkFile(ctx, tmp, d, fsync); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// checkFile hashes the file, compares with d, and makes it read-only.
func checkFile(ctx context.Context, p string, d backend.Digest, fsync bool) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("link %s: %w", d, err)
	}
	defer f.Close()
	if _, err := backend.CopyVerified(ctx, discard{}, f, d, -1); err != nil {
		return err
	}
	if fsync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("link %s: %w", d, err)
		}
	}
	if err := os.Chmod(p, 0o444); err != nil {
		return fmt.Errorf("link %s: %w", d, err)
	}
	return nil
}

// discard is io.Discard without the ReaderFrom shortcut, so CopyVerified's
// hashing writer sees every byte.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var randCounter struct {
	mu sync.Mutex
	n  uint64
}

// randomSuffix makes temporary link names unique within the process; the
// pid keeps processes apart.
func randomSuffix() uint64 {
	randCounter.mu.Lock()
	defer randCounter.mu.Unlock()
	randCounter.n++
	return uint64(os.Getpid())<<32 | randCounter.n
}
