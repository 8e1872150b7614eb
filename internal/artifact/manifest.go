// Package artifact turns a built site into a release: a Manifest (path ->
// digest, size, content type, SRI hash, precompressed variants) whose blobs
// live in a content-addressed backend.Backend, signed with minisign (package
// sign), checked by Verify, and moved between machines as one tar file
// (Export, Import). The content store plus the manifest is the release: the
// edge serves each path straight from its blob file, nothing is copied into a
// tree.
package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// Content encodings a Variant may have.
const (
	EncodingBrotli = "br"
	EncodingGzip   = "gzip"
	EncodingZstd   = "zstd"
)

// Manifest lists every file of a release. Its canonical JSON encoding (see
// Canonical) is what gets signed and what Digest hashes.
type Manifest struct {
	// Version is the manifest format version, FormatVersion.
	Version int `json:"version"`
	// Meta describes where the release came from; all fields are optional.
	Meta Meta `json:"meta,omitzero"`
	// Files is sorted by Path; paths are unique.
	Files []File `json:"files"`
	// Warnings are problems that do not make the manifest invalid (paths
	// that differ only in case, dropped .gz siblings). They are set by
	// Decode, Validate and Build and are not part of the encoding.
	Warnings []string `json:"-"`
}

// Meta is optional provenance information.
type Meta struct {
	Project string    `json:"project,omitempty"`
	Release string    `json:"release,omitempty"` // version or tag, e.g. "v1.4.2"
	Commit  string    `json:"commit,omitempty"`  // git commit of the source
	Created time.Time `json:"created,omitzero"`  // UTC
	Builder string    `json:"builder,omitempty"` // who or what built it
}

// File is one path of the release.
type File struct {
	// Path is a clean relative slash path, e.g. "assets/app.js".
	Path   string         `json:"path"`
	Digest backend.Digest `json:"digest"`
	Size   int64          `json:"size"`
	// Type is the Content-Type to serve the file with.
	Type string `json:"type"`
	// Integrity is the SRI hash ("sha384-<base64>") of scripts and styles.
	Integrity string `json:"integrity,omitempty"`
	// Private files (source maps by default) are kept but not served.
	Private bool `json:"private,omitempty"`
	// Variants are precompressed copies, sorted by Encoding.
	Variants []Variant `json:"variants,omitempty"`
}

// Variant is a precompressed copy of a file's bytes.
type Variant struct {
	Encoding string         `json:"encoding"` // EncodingBrotli, EncodingGzip, EncodingZstd
	Digest   backend.Digest `json:"digest"`
	Size     int64          `json:"size"`
}

// Variant returns the file's variant with the given encoding, if any.
func (f *File) Variant(encoding string) (Variant, bool) {
	for _, v := range f.Variants {
		if v.Encoding == encoding {
			return v, true
		}
	}
	return Variant{}, false
}

// Lookup returns the file at path p using binary search over the sorted files.
func (m *Manifest) Lookup(p string) (*File, bool) {
	i, ok := slices.BinarySearchFunc(m.Files, p, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return nil, false
	}
	return &m.Files[i], true
}

// Blobs returns every digest the manifest references (files and variants),
// sorted and without duplicates, with the size each must have.
func (m *Manifest) Blobs() []backend.Info {
	sizes := map[backend.Digest]int64{}
	for _, f := range m.Files {
		sizes[f.Digest] = f.Size
		for _, v := range f.Variants {
			sizes[v.Digest] = v.Size
		}
	}
	out := make([]backend.Info, 0, len(sizes))
	for d, n := range sizes {
		out = append(out, backend.Info{Digest: d, Size: n})
	}
	slices.SortFunc(out, func(a, b backend.Info) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	return out
}

// Sort puts files in path order and variants in encoding order, the order the
// canonical encoding requires.
func (m *Manifest) Sort() {
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for i := range m.Files {
		slices.SortFunc(m.Files[i].Variants, func(a, b Variant) int { return strings.Compare(a.Encoding, b.Encoding) })
	}
}

// Canonical returns the canonical encoding: compact JSON with fields in
// declaration order, files sorted by path, variants by encoding, the created
// time in UTC, no HTML escaping, and one trailing newline. It fails if the
// manifest is invalid, so only valid manifests are ever signed.
func (m *Manifest) Canonical() ([]byte, error) {
	c := *m
	c.Files = slices.Clone(m.Files)
	for i := range c.Files {
		c.Files[i].Variants = slices.Clone(c.Files[i].Variants)
	}
	c.Sort()
	if !c.Meta.Created.IsZero() {
		c.Meta.Created = c.Meta.Created.UTC()
	}
	if c.Files == nil {
		c.Files = []File{}
	}
	if _, err := c.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// Digest returns the sha256 digest of the canonical encoding.
func (m *Manifest) Digest() (backend.Digest, error) {
	b, err := m.Canonical()
	if err != nil {
		return "", err
	}
	return backend.Sum(b), nil
}

// SameFiles reports whether a and b serve the same files (paths, bytes,
// types, variants, integrity), whatever their provenance (Meta) says: the
// same folder built twice, which gives two digests since Meta records
// when it was built.
func SameFiles(a, b *Manifest) bool {
	ca, cb := *a, *b
	ca.Meta, cb.Meta = Meta{}, Meta{}
	x, errA := ca.Canonical()
	y, errB := cb.Canonical()
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
