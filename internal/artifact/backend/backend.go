// Package backend defines the blob store that artifacts are kept in: a flat,
// content-addressed space of immutable blobs named by their sha256 digest.
//
// # Contract
//
// Every implementation (local disk, S3, a local cache of S3) satisfies the contract below
// and runs the shared suite in package backendtest.
//
//   - Naming: a blob is named by its Digest ("sha256:" + 64 lowercase hex). A
//     method given a malformed digest returns an error wrapping ErrInvalidDigest
//     and touches nothing.
//   - Put(ctx, d, r, size) reads r to the end and stores the bytes under d only
//     if their sha256 equals d (else ErrDigestMismatch) and, when size >= 0,
//     their length equals size (else ErrSizeMismatch). size < 0 means unknown.
//     A Put that fails leaves no blob named d behind (a half-written blob is
//     never visible). Putting a blob that already exists succeeds and may
//     return without reading r. After Put returns nil, Stat and Get see the
//     blob, also from other goroutines and processes.
//   - Get returns the blob's bytes; the caller closes the reader. Stat returns
//     its size. Both return an error wrapping ErrNotFound for a missing blob.
//   - List calls fn once per stored blob, in no particular order; an error from
//     fn stops the listing and is returned. Blobs put or deleted during a List
//     may or may not be seen.
//   - Delete removes a blob; deleting a missing blob returns ErrNotFound.
//     Deleting a blob that a release still references is the caller's problem
//     (retention lives in package deploy).
//   - Concurrency: all methods are safe for concurrent use, including
//     concurrent Puts of the same digest (all succeed, one copy is kept).
//   - Cancellation: every method honours ctx; a cancelled Put stores nothing.
//   - Errors name the digest and the operation, never credentials.
package backend

import (
	"context"
	"errors"
	"io"
)

// Backend stores immutable blobs by content digest. See the package
// documentation for the contract every implementation follows.
type Backend interface {
	// Put stores the bytes read from r under d after checking that they hash
	// to d and, if size >= 0, that there are exactly size of them.
	Put(ctx context.Context, d Digest, r io.Reader, size int64) error
	// Get opens the blob d for reading; the caller closes it.
	Get(ctx context.Context, d Digest) (io.ReadCloser, error)
	// Stat reports whether d is stored, and its size.
	Stat(ctx context.Context, d Digest) (Info, error)
	// List calls fn for every stored blob until fn returns an error.
	List(ctx context.Context, fn func(Digest) error) error
	// Delete removes d.
	Delete(ctx context.Context, d Digest) error
}

// Info describes a stored blob.
type Info struct {
	Digest Digest
	Size   int64
}

// Pather is implemented by backends that keep each blob as a plain file, so a
// server can hand the file to sendfile(2) instead of copying it through Get.
// The returned path must only be opened for reading: the file is shared by all
// releases that contain the blob. Path returns ErrNotFound for a missing blob.
type Pather interface {
	Path(d Digest) (string, error)
}

// Fetcher is implemented by backends whose files (Pather) are a local cache
// of a remote store. Fetch makes each blob of ds a local file, verified
// against its digest and written atomically, so Path finds it; blobs already
// local are not fetched again. A server fetches a release's blobs before it
// activates the release, so serving never waits for the remote store. The
// error names the first blob that could not be fetched.
type Fetcher interface {
	Fetch(ctx context.Context, ds []Digest) error
}

// Linker is implemented by backends on a local filesystem that can take an
// existing file into the store as a hard link instead of copying its bytes.
// Link checks the file's content against d like Put does, and makes it
// read-only (which also affects the original path: it is the same file). A
// file that cannot be linked (another filesystem) returns an error wrapping
// ErrCannotLink, and the caller falls back to Put. The caller must not
// modify the file in place afterwards: that would change the blob.
type Linker interface {
	Link(ctx context.Context, d Digest, path string) error
}

// Settler is implemented by backends into which a blob may be staged
// before anything references it: a deploy writes a release's blobs into the
// server's local store, then tells the server (the upload that protects
// them from garbage collection). Garbage collection lists and deletes
// through a Settler when the store is one, so a blob written or staged
// again within the backend's grace period is never deleted.
//
// ListSettled calls fn for every stored blob that has not been written or
// staged within the grace period. DeleteSettled deletes d unless it was
// written or staged within the grace period (checked again at the moment
// of deletion, so a blob staged after the listing stays) and reports
// whether it deleted it.
type Settler interface {
	ListSettled(ctx context.Context, fn func(Digest) error) error
	DeleteSettled(ctx context.Context, d Digest) (bool, error)
}

// Batcher is implemented by backends that can store many blobs faster when
// their durability is settled once at the end (one filesystem sync instead of
// two per blob). Blobs put through a Batch become visible at Commit.
type Batcher interface {
	Batch() Batch
}

// Batch collects Puts and makes them durable and visible together.
// Put is safe for concurrent use; Commit and Abort are called once, after all
// Puts have returned. After Abort, or a failed Commit, no half-written blob is
// visible; blobs already renamed into place by a failed Commit are complete.
type Batch interface {
	Put(ctx context.Context, d Digest, r io.Reader, size int64) error
	// Link is Linker.Link within the batch; it returns ErrCannotLink if the
	// backend cannot link.
	Link(ctx context.Context, d Digest, path string) error
	Commit(ctx context.Context) error
	Abort() error
}

// Errors returned (wrapped) by every backend.
var (
	ErrNotFound       = errors.New("blob not found")
	ErrDigestMismatch = errors.New("content does not match its digest")
	ErrSizeMismatch   = errors.New("content does not match its declared size")
	ErrInvalidDigest  = errors.New("invalid digest")
	ErrCannotLink     = errors.New("cannot hard-link the file into the store")
)
