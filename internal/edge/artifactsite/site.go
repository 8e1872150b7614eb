// Package artifactsite backs an edge.Site with a deployed artifact: the
// manifest is the index, and each representation's bytes are a blob file in
// a local content-addressed store, opened directly so bodies go out with
// sendfile. Nothing is copied or materialized per release.
package artifactsite

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// ConfigFile is the routing config inside a release; it is read, never served.
const ConfigFile = "staticwebapp.config.json"

// Site is one artifact as the edge serves it.
type Site struct {
	id    string
	cfg   *swa.Config
	files map[string]*edge.File
	blobs backend.Pather
}

var _ edge.Site = (*Site)(nil)

// New indexes m. id names the release in /health and metrics (a
// deployment id and digest). The config is parsed from the artifact's
// staticwebapp.config.json, or the defaults when it has none.
func New(ctx context.Context, id string, m *artifact.Manifest, blobs backend.Backend) (*Site, error) {
	pather, ok := blobs.(backend.Pather)
	if !ok {
		return nil, fmt.Errorf("artifactsite: the blob store keeps no local files to serve from")
	}
	cfg, err := Config(ctx, m, blobs)
	if err != nil {
		return nil, err
	}
	s := &Site{id: id, cfg: cfg, files: make(map[string]*edge.File, len(m.Files)), blobs: pather}
	for i := range m.Files {
		f := &m.Files[i]
		if f.Private || f.Path == ConfigFile {
			continue
		}
		s.files["/"+f.Path] = fileOf(f, m.Meta.Created)
	}
	return s, nil
}

func fileOf(f *artifact.File, created time.Time) *edge.File {
	ef := &edge.File{
		Path:        "/" + f.Path,
		ContentType: f.Type,
		ModTime:     created.UTC().Truncate(time.Second),
		Identity:    edge.Representation{Blob: string(f.Digest), Size: f.Size, ETag: etag(f.Digest)},
	}
	for _, v := range f.Variants {
		ef.Encoded = append(ef.Encoded, edge.Representation{
			Encoding: v.Encoding, Blob: string(v.Digest), Size: v.Size, ETag: etag(v.Digest),
		})
	}
	return ef
}

// etag is a strong entity tag from the content digest: each encoding has
// its own bytes, so its own tag.
func etag(d backend.Digest) string {
	h := d.Hex()
	if len(h) > 32 {
		h = h[:32]
	}
	return `"` + h + `"`
}

// Config returns the routing rules stored in m, validated as the cloud
// validates them at deploy time.
func Config(ctx context.Context, m *artifact.Manifest, blobs backend.Backend) (*swa.Config, error) {
	f, ok := m.Lookup(ConfigFile)
	if !ok {
		return swa.Default(), nil
	}
	rc, err := blobs.Get(ctx, f.Digest)
	if err != nil {
		return nil, fmt.Errorf("artifactsite: read %s: %w", ConfigFile, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("artifactsite: read %s: %w", ConfigFile, err)
	}
	return swa.Parse(data, ConfigFile)
}

// ID names the release.
func (s *Site) ID() string { return s.id }

// Config returns the compiled routing rules.
func (s *Site) Config() *swa.Config { return s.cfg }

// Lookup returns the file at p, or nil.
func (s *Site) Lookup(p string) *edge.File { return s.files[p] }

// Open opens the blob file of a representation.
func (s *Site) Open(blob string) (*os.File, error) {
	path, err := s.blobs.Path(backend.Digest(blob))
	if err != nil {
		return nil, fmt.Errorf("artifactsite: blob %s: %w", shortDigest(blob), err)
	}
	return os.Open(path)
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// Len is the number of served files.
func (s *Site) Len() int { return len(s.files) }
