// Package edge is Phoenix's HTTP edge: it serves immutable releases of static
// sites, one per environment, chosen by the request's Host.
//
// A release is a Site: an index of paths to File metadata, a compiled
// staticwebapp.config.json (*swa.Config), and a way to open a file's bytes as
// an *os.File so bodies go out with sendfile. The Handler resolves the Site of
// a request once, asks the swa rules for a Decision and turns it into a
// response with strong ETags, conditional requests, ranges, precompressed
// variants, cache headers, roles from a signed session cookie, rate limits,
// IP allow-lists and per-environment telemetry. Activation of a new release
// is an atomic pointer swap (Hosts.SetSite).
package edge

import (
	"os"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// Site is one immutable release the edge serves.
//
// Implementations must be safe for concurrent use and must not change after
// they are handed to Hosts.SetSite: the edge caches headers and small bodies
// on the *File values a Site returns, so Lookup must return the same *File
// for the same path every time (build the index once, up front).
//
// NewDirSite backs a Site with a plain folder. A deployment store backs it with
// an artifact manifest whose blobs are files on local disk named by digest:
// Lookup reads the manifest index, Representation.Blob holds the digest and
// Open opens the blob file.
type Site interface {
	// ID names the release (an artifact digest, a deployment id); it is
	// reported by /health and metrics. Cheap and constant.
	ID() string
	// Config returns the compiled routing rules. Never nil; constant.
	Config() *swa.Config
	// Lookup returns the file at p, a normalized path starting with "/"
	// (case-sensitive, no trailing slash handling), or nil when absent.
	// It is called on every request: it must not allocate or block.
	Lookup(p string) *File
	// Open returns the bytes of a representation by its Blob key. The caller
	// closes the file. Errors name the blob, never a secret.
	Open(blob string) (*os.File, error)
}

// File describes one path of a release. Build it once per release and never
// modify it afterwards.
type File struct {
	Path        string    // release path, starts with "/"
	ContentType string    // full Content-Type value, e.g. "text/html; charset=utf-8"
	ModTime     time.Time // Last-Modified; zero to omit
	Identity    Representation
	Encoded     []Representation // precompressed variants (br, zstd, gzip); any order
}

// Representation is one stored encoding of a file's content.
type Representation struct {
	Encoding string // "" for identity, else "br", "zstd" or "gzip"
	Blob     string // the Site's key for Open: a relative path or a digest
	Size     int64  // bytes of this representation
	ETag     string // strong entity tag, quoted, derived from the content digest

	cache atomic.Pointer[repCache] // filled lazily by the Handler
}

// repCache holds the precomputed header values (and, for small files, the
// body) of one representation, so serving it allocates nothing.
type repCache struct {
	etag, length, ctype, modified, cacheControl, encoding []string
	body                                                  []byte      // nil unless cached
	blocks                                                *blockCache // serialized heads (shared by copies)
}
