package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	Path     string         // file the problem concerns, "" for the manifest
	Encoding string         // variant encoding, "" for the file itself
	Digest   backend.Digest // blob concerned, if any
	Err      error
}

func (p Problem) String() string {
	switch {
	case p.Path == "":
		return p.Err.Error()
	case p.Encoding != "":
		return fmt.Sprintf("%s (%s variant %s): %v", p.Path, p.Encoding, p.Digest, p.Err)
	default:
		return fmt.Sprintf("%s (%s): %v", p.Path, p.Digest, p.Err)
	}
}

// VerifyOptions tune VerifyWith.
type VerifyOptions struct {
	// SkipContent checks that every blob exists with the right size but does
	// not re-hash it. Blobs are checked against their digest when stored, so
	// this is enough unless the disk itself is suspect.
	SkipContent bool
	// Workers re-hashing blobs in parallel (0: GOMAXPROCS).
	Workers int
}

// Verify checks everything before a release may be activated: the manifest
// is valid, sig is a good signature of it by pub (nil pub or empty sig is a
// problem), and every blob and variant is stored with the right size and
// content. It returns the problems found (none: safe to activate); the error
// is only for failures to check at all, such as a cancelled ctx.
func Verify(ctx context.Context, m *Manifest, sig []byte, pub *sign.PublicKey, store backend.Backend) ([]Problem, error) {
	return VerifyWith(ctx, m, sig, pub, store, VerifyOptions{})
}

// VerifyWith is Verify with options.
func VerifyWith(ctx context.Context, m *Manifest, sig []byte, pub *sign.PublicKey, store backend.Backend, opts VerifyOptions) ([]Problem, error) {
	var probs []Problem
	if _, err := m.Validate(); err != nil {
		return []Problem{{Err: err}}, nil
	}
	switch {
	case pub == nil:
		probs = append(probs, Problem{Err: fmt.Errorf("%w: no public key to check the signature with", ErrUnsigned)})
	default:
		if err := VerifySignature(m, sig, *pub); err != nil {
			probs = append(probs, Problem{Err: err})
		}
	}
	blobProbs, err := verifyBlobs(ctx, m, store, opts)
	return append(probs, blobProbs...), err
}

// blobRef names the first place a blob is used, for messages.
type blobRef struct{ path, encoding string }

func verifyBlobs(ctx context.Context, m *Manifest, store backend.Backend, opts VerifyOptions) ([]Problem, error) {
	refs := map[backend.Digest]blobRef{}
	for _, f := range m.Files {
		if _, ok := refs[f.Digest]; !ok {
			refs[f.Digest] = blobRef{f.Path, ""}
		}
		for _, v := range f.Variants {
			if _, ok := refs[v.Digest]; !ok {
				refs[v.Digest] = blobRef{f.Path, v.Encoding}
			}
		}
	}
	blobs := m.Blobs()
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var probs []Problem
	jobs := make(chan backend.Info)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range jobs {
				if err := checkBlob(ctx, store, b, opts.SkipContent); err != nil && ctx.Err() == nil {
					r := refs[b.Digest]
					mu.Lock()
					probs = append(probs, Problem{Path: r.path, Encoding: r.encoding, Digest: b.Digest, Err: err})
					mu.Unlock()
				}
			}
		})
	}
	for _, b := range blobs {
		if ctx.Err() != nil {
			break
		}
		jobs <- b
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return probs, err
	}
	sortProblems(probs)
	return probs, nil
}

func checkBlob(ctx context.Context, store backend.Backend, want backend.Info, skipContent bool) error {
	if skipContent {
		info, err := store.Stat(ctx, want.Digest)
		if err != nil {
			return err
		}
		return checkSize(info.Size, want.Size)
	}
	return CheckBlob(ctx, store, want, nil)
}

// CheckBlob reads the stored blob want.Digest to the end and checks its
// bytes against the digest and, when want.Size >= 0, its size: the check
// a disk that may have rotted needs (blobs are checked when stored, not
// when served). wrap, when not nil, wraps the blob's reader (a rate
// limit). The error wraps backend.ErrNotFound for a missing blob,
// backend.ErrDigestMismatch or ErrSizeMismatch for a damaged one.
func CheckBlob(ctx context.Context, store backend.Backend, want backend.Info, wrap func(io.Reader) io.Reader) error {
	info, err := store.Stat(ctx, want.Digest)
	if err != nil {
		return err
	}
	if err := checkSize(info.Size, want.Size); err != nil {
		return err
	}
	rc, err := store.Get(ctx, want.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if wrap != nil {
		r = wrap(r)
	}
	_, err = backend.CopyVerified(ctx, io.Discard, r, want.Digest, info.Size)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stored blob is damaged: %w", err)
	}
	return err
}

// checkSize compares a stored blob's size with the manifest's (want < 0:
// not known).
func checkSize(got, want int64) error {
	if want >= 0 && got != want {
		return fmt.Errorf("%w: stored blob has %d bytes, manifest says %d", backend.ErrSizeMismatch, got, want)
	}
	return nil
}

func sortProblems(p []Problem) {
	slices.SortFunc(p, func(a, b Problem) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Encoding, b.Encoding)
	})
}
