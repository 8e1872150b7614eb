package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// maxSnapshotSize bounds how much decrypted snapshot JSON is read, so a
// doctored repository cannot exhaust memory.
const maxSnapshotSize = 256 << 20

// latest is the idOrPrefix that selects the newest snapshot.
const latest = "latest"

// saveSnapshot encrypts s into the snapshot store and sets s.ID.
func (r *Repo) saveSnapshot(ctx context.Context, s *Snapshot) error {
	s.Count = len(s.Files)
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	sl, err := r.encrypt(ctx, &buf, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := r.snapshots.Put(ctx, sl.object, &buf, sl.stored); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	s.ID = sl.object.Hex()
	return nil
}

// loadSnapshot reads, decrypts and validates the snapshot with the full id.
func (r *Repo) loadSnapshot(ctx context.Context, id string) (*Snapshot, error) {
	rc, err := r.openObject(ctx, r.snapshots, backend.Digest(backend.Algorithm+":"+id), "snapshot", true)
	if err != nil {
		return nil, fmt.Errorf("load snapshot %s: %w", shortID(id), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSnapshotSize+1))
	if err != nil {
		return nil, fmt.Errorf("load snapshot %s: %w", shortID(id), err)
	}
	if len(b) > maxSnapshotSize {
		return nil, fmt.Errorf("snapshot %s: larger than %d bytes (%w)", shortID(id), maxSnapshotSize, ErrCorrupt)
	}
	return parseSnapshot(id, b)
}

// snapshotIDs lists the ids of all stored snapshots.
func (r *Repo) snapshotIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := r.snapshots.List(ctx, func(d backend.Digest) error {
		ids = append(ids, d.Hex())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	return ids, nil
}

// resolve turns "latest", a full id or a prefix of at least 4 hex digits
// into a loaded snapshot.
func (r *Repo) resolve(ctx context.Context, idOrPrefix string) (*Snapshot, error) {
	if idOrPrefix == latest {
		heads, _, err := r.heads(ctx) // the newest that can be read
		if err != nil {
			return nil, err
		}
		if len(heads) == 0 {
			return nil, fmt.Errorf("latest snapshot: the repository has none: %w", ErrNotFound)
		}
		return r.loadSnapshot(ctx, heads[0].ID)
	}
	id, err := r.matchPrefix(ctx, idOrPrefix)
	if err != nil {
		return nil, err
	}
	return r.loadSnapshot(ctx, id)
}

// matchPrefix finds the one snapshot id that starts with prefix.
func (r *Repo) matchPrefix(ctx context.Context, prefix string) (string, error) {
	p := strings.ToLower(prefix)
	if len(p) < 4 || len(p) > 64 || strings.Trim(p, "0123456789abcdef") != "" {
		return "", fmt.Errorf("snapshot %q: want %q or at least 4 hex digits of an id: %w", clip(prefix), latest, ErrNotFound)
	}
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return "", err
	}
	var found []string
	for _, id := range ids {
		if strings.HasPrefix(id, p) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("snapshot %s: %w", p, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("snapshot %s matches %d snapshots: %w", p, len(found), ErrAmbiguous)
}
