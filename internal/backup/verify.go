package backup

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Snapshot string   `json:"snapshot"` // full id
	Files    int      `json:"files"`    // files checked
	Bytes    int64    `json:"bytes"`    // plaintext bytes checked
	Problems []string `json:"problems"` // one line per missing, corrupt or mismatching file; empty, not nil
}

// Verify decrypts every object of a snapshot and checks each file's digest
// and size. Damage is listed in the report's Problems, all of it rather
// than the first; the error is for a snapshot that cannot be found or read,
// I/O failures and cancellation.
func (r *Repo) Verify(ctx context.Context, idOrPrefix string, progress func(done, total int64)) (*VerifyReport, error) {
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := r.resolve(ctx, idOrPrefix)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{Snapshot: s.ID, Problems: []string{}}
	prog := meterFor(s, progress)
	problems := make([]string, len(s.Files))
	err = forEach(ctx, len(s.Files), func(ctx context.Context, i int) (err error) {
		problems[i], err = r.verifyEntry(ctx, s.Files[i], prog)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("verify snapshot %s: %w", shortID(s.ID), err)
	}
	for i, e := range s.Files {
		if problems[i] != "" {
			rep.Problems = append(rep.Problems, problems[i])
		}
		rep.Files++
		rep.Bytes += e.Size
	}
	return rep, nil
}

// meterFor reports progress over a snapshot's plaintext bytes.
func meterFor(s *Snapshot, fn func(done, total int64)) *meter {
	p := &meter{fn: fn}
	for _, e := range s.Files {
		p.total += e.Size
	}
	return p
}

// verifyEntry checks one file; damage is returned as a problem, other
// failures as an error.
func (r *Repo) verifyEntry(ctx context.Context, e Entry, prog *meter) (string, error) {
	err := r.readEntry(ctx, e, io.Discard, prog)
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, backend.ErrNotFound):
		return fmt.Sprintf("%s: object %s is missing", e.Path, e.Object), nil
	case errors.Is(err, ErrCorrupt):
		return fmt.Sprintf("%s: %v", e.Path, err), nil
	}
	return "", err
}

// readEntry decrypts e's object into w and checks the plaintext's digest
// and size; a mismatch is ErrCorrupt.
func (r *Repo) readEntry(ctx context.Context, e Entry, w io.Writer, prog *meter) error {
	rc, err := r.openObject(ctx, r.objects, backend.Digest(e.Object), "object", false) // the plaintext digest is checked below
	if err != nil {
		return err
	}
	defer rc.Close()
	h := backend.NewHash()
	n, err := io.Copy(io.MultiWriter(w, h), prog.reader(rc))
	if err != nil {
		return err
	}
	if n != e.Size {
		return fmt.Errorf("object %s holds %d bytes, the snapshot says %d: %w", e.Object, n, e.Size, ErrCorrupt)
	}
	if got := sumDigest(h); got.String() != e.Digest {
		return fmt.Errorf("object %s holds content %s, the snapshot says %s: %w", e.Object, got, e.Digest, ErrCorrupt)
	}
	return nil
}
