package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Entry is one regular file of a snapshot.
type Entry struct {
	Path   string      `json:"path"`   // slash-separated, relative to the data dir, clean, never ".." or absolute
	Mode   fs.FileMode `json:"mode"`   // permission bits only
	Size   int64       `json:"size"`   // plaintext bytes
	Digest string      `json:"digest"` // "sha256:<hex>" of the plaintext
	Object string      `json:"object"` // "sha256:<hex>" of the stored (encrypted) object
}

// Snapshot describes one backup: every file of the data dir at that time.
// The file list is the last field, so a listing decrypts and decodes only
// the fields before it (readHead).
type Snapshot struct {
	ID   string    `json:"-"` // hex digest of the snapshot object (set on load)
	Time time.Time `json:"time"`
	Host string    `json:"host"`
	// Server is the identity of the server that took it (its data dir's
	// server.id): retention and "latest" go by it, as two servers on one
	// repository (a restore drill, a standby on a cloned machine) may
	// share a host name. Empty in snapshots taken before it was recorded.
	Server  string  `json:"server,omitempty"`
	Version string  `json:"version"` // phoenix version that took it
	Size    int64   `json:"size"`    // plaintext bytes
	Added   int64   `json:"added"`   // stored bytes newly written by this snapshot
	Count   int     `json:"count"`   // len(Files)
	Files   []Entry `json:"files"`
	// Corrupt lists the content-addressed blobs Create left out because
	// their bytes no longer match their names (set by Create, not stored).
	Corrupt []CorruptBlob `json:"-"`
}

// CorruptBlob is a blob of the data dir whose content does not hash to
// the digest it is named by (bit rot, an edit): Create does not store it.
type CorruptBlob struct {
	Path   string `json:"path"`   // slash-separated, relative to the data dir
	Name   string `json:"name"`   // the digest it is named by
	Actual string `json:"actual"` // the digest of what it holds
}

// Summary is a snapshot without its file list, for listings.
type Summary struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Server  string    `json:"server,omitempty"` // "" before servers were recorded
	Version string    `json:"version"`
	Files   int       `json:"files"`
	Size    int64     `json:"size"`  // plaintext bytes
	Added   int64     `json:"added"` // stored bytes this snapshot wrote
	// Damaged: the snapshot's head cannot be read (the server's listing
	// names such a snapshot by ID alone, after the others).
	Damaged bool `json:"damaged,omitempty"`
}

// Summary returns s without its file list.
func (s *Snapshot) Summary() Summary {
	return Summary{ID: s.ID, Time: s.Time, Host: s.Host, Server: s.Server, Version: s.Version, Files: len(s.Files), Size: s.Size, Added: s.Added}
}

// maxProblems caps how many problems one error lists.
const maxProblems = 10

// parseSnapshot decodes snapshot JSON strictly and validates it. id names
// the snapshot in errors, which wrap ErrCorrupt.
func parseSnapshot(id string, b []byte) (*Snapshot, error) {
	var s Snapshot
	if err := decodeStrict(b, &s); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w (%w)", shortID(id), err, ErrCorrupt)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w (%w)", shortID(id), err, ErrCorrupt)
	}
	// A listing reads only the members before "files": they must say what
	// the whole object says (no repeated member, none after the list).
	var head Snapshot
	if err := decodeHead(bytes.NewReader(b), &head); err != nil || !sameHead(&head, &s) {
		return nil, fmt.Errorf("snapshot %s: its head and its body disagree (%w)", shortID(id), ErrCorrupt)
	}
	s.ID = id
	return &s, nil
}

// validate collects every problem of s, naming the field.
func (s *Snapshot) validate() error {
	var errs []error
	if s.Time.IsZero() {
		errs = append(errs, errors.New("time: missing"))
	}
	if s.Size < 0 || s.Added < 0 {
		errs = append(errs, fmt.Errorf("size %d, added %d: must not be negative", s.Size, s.Added))
	}
	if s.Count != len(s.Files) {
		errs = append(errs, fmt.Errorf("count %d: the snapshot lists %d files", s.Count, len(s.Files)))
	}
	paths := make(map[string]bool, len(s.Files))
	for i, e := range s.Files {
		if err := e.validate(paths); err != nil {
			errs = append(errs, fmt.Errorf("files[%d].%w", i, err))
		}
		paths[e.Path] = true
		if len(errs) == maxProblems {
			errs = append(errs, errors.New("more problems not listed"))
			break
		}
	}
	if err := checkNesting(s.Files, paths); err != nil && len(errs) < maxProblems {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validate checks one entry; seen holds the paths of the entries before it.
func (e Entry) validate(seen map[string]bool) error {
	if err := checkPath(e.Path); err != nil {
		return fmt.Errorf("path %q: %w", clip(e.Path), err)
	}
	if seen[e.Path] {
		return fmt.Errorf("path %q: listed twice", clip(e.Path))
	}
	if e.Mode&^fs.ModePerm != 0 {
		return fmt.Errorf("mode %o: only permission bits are allowed", uint32(e.Mode))
	}
	if e.Size < 0 {
		return fmt.Errorf("size %d: must not be negative", e.Size)
	}
	if _, err := backend.ParseDigest(e.Digest); err != nil {
		return fmt.Errorf("digest: %w", err)
	}
	if _, err := backend.ParseDigest(e.Object); err != nil {
		return fmt.Errorf("object: %w", err)
	}
	return nil
}

// checkPath accepts only a clean, relative, slash-separated path that stays
// inside the directory it is joined to, on this system too.
func checkPath(p string) error {
	switch {
	case p == "" || p == ".":
		return errors.New("must name a file")
	case strings.ContainsAny(p, "\\\x00"):
		return errors.New("must not contain a backslash or NUL")
	case path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../"):
		return errors.New("must stay inside the data dir")
	case path.Clean(p) != p:
		return errors.New("must be clean")
	case !filepath.IsLocal(filepath.FromSlash(p)):
		return errors.New("is not a local path on this system")
	}
	return nil
}

// checkNesting rejects a file whose path is also a parent directory of
// another file, which could not both be restored.
func checkNesting(files []Entry, paths map[string]bool) error {
	for i, e := range files {
		if checkPath(e.Path) != nil {
			continue // reported already
		}
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			if paths[dir] {
				return fmt.Errorf("files[%d].path %q: its parent %q is a file", i, clip(e.Path), clip(dir))
			}
		}
	}
	return nil
}

// shortID is the first 8 hex digits of a snapshot id, for messages.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
