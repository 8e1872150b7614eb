package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// maxHeadSize bounds how much of a snapshot readHead decodes before its
// file list: the head is a few hundred bytes.
const maxHeadSize = 64 << 10

// heads returns the summary of every snapshot whose head reads, newest
// first, and the ids of those whose head is damaged (ErrCorrupt: it fails
// authentication or validation). A damaged snapshot can be neither dated
// nor restored; it must not keep the others from being listed, restored
// as latest or aged out. Other errors (I/O) fail.
func (r *Repo) heads(ctx context.Context) ([]Summary, []string, error) {
	out, damaged, err := readEach(ctx, r, r.readHead)
	sortNewestFirst(out)
	return out, damaged, err
}

// readEach reads every snapshot with read and returns what it read, and
// the ids, sorted, of those it failed with ErrCorrupt (damaged); other
// errors (I/O) fail.
func readEach[T any](ctx context.Context, r *Repo, read func(context.Context, string) (T, error)) ([]T, []string, error) {
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, 0, len(ids))
	var damaged []string
	for _, id := range ids {
		v, err := read(ctx, id)
		if errors.Is(err, ErrCorrupt) {
			damaged = append(damaged, id)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, v)
	}
	slices.Sort(damaged)
	return out, damaged, nil
}

// DamagedError is List's error when some snapshots cannot be read; List
// returns the others beside it. It wraps ErrCorrupt.
type DamagedError struct {
	IDs []string // the damaged snapshots' full ids, sorted
}

func (e *DamagedError) Error() string {
	short := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		short[i] = shortID(id)
	}
	return fmt.Sprintf("%d snapshot(s) cannot be read, damaged: %s", len(e.IDs), strings.Join(short, ", "))
}

// Unwrap makes a DamagedError an ErrCorrupt.
func (e *DamagedError) Unwrap() error { return ErrCorrupt }

// sortNewestFirst orders summaries by time, newest first, then by id.
func sortNewestFirst(s []Summary) {
	slices.SortFunc(s, func(a, b Summary) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// readHead decrypts and decodes a snapshot up to its file list: one
// authenticated chunk, whatever the number of files. It does not check
// the stored bytes against the snapshot's name (that needs all of them);
// loading the snapshot does.
func (r *Repo) readHead(ctx context.Context, id string) (Summary, error) {
	rc, err := r.openObject(ctx, r.snapshots, backend.Digest(backend.Algorithm+":"+id), "snapshot", false)
	if err != nil {
		return Summary{}, fmt.Errorf("read snapshot %s: %w", shortID(id), err)
	}
	defer rc.Close()
	var s Snapshot
	if err := decodeHead(io.LimitReader(rc, maxHeadSize), &s); err != nil {
		return Summary{}, fmt.Errorf("snapshot %s: head: %w (%w)", shortID(id), err, ErrCorrupt)
	}
	if s.Time.IsZero() || s.Size < 0 || s.Added < 0 || s.Count < 0 {
		return Summary{}, fmt.Errorf("snapshot %s: head: time, size, added or count out of range (%w)", shortID(id), ErrCorrupt)
	}
	return Summary{ID: id, Time: s.Time, Host: s.Host, Server: s.Server, Version: s.Version, Files: s.Count, Size: s.Size, Added: s.Added}, nil
}

// decodeHead decodes the members of a snapshot object before "files" into
// s and stops there; an unknown member is an error, as in parseSnapshot.
func decodeHead(r io.Reader, s *Snapshot) error {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object (%v)", err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var dst any
		switch t {
		case "files":
			return nil
		case "time":
			dst = &s.Time
		case "host":
			dst = &s.Host
		case "server":
			dst = &s.Server
		case "version":
			dst = &s.Version
		case "size":
			dst = &s.Size
		case "added":
			dst = &s.Added
		case "count":
			dst = &s.Count
		default:
			return fmt.Errorf("unknown member %v", t)
		}
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("%v: %w", t, err)
		}
	}
	return nil // no file list: an empty snapshot
}

// sameHead reports whether h, decoded by decodeHead, says what s does.
func sameHead(h, s *Snapshot) bool {
	return h.Time.Equal(s.Time) && h.Host == s.Host && h.Server == s.Server && h.Version == s.Version &&
		h.Size == s.Size && h.Added == s.Added && h.Count == s.Count
}
