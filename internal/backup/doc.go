// Package backup keeps encrypted, deduplicated snapshots of a Phoenix data
// dir in a repository on a local (or mounted) filesystem, in the manner of
// restic: every snapshot is complete on its own, files that did not change
// are stored once, and nothing in the repository is readable without the
// passphrase.
//
// # Repository format
//
//	<repo>/phoenix-backup.json  plaintext JSON, mode 0600:
//	    {"format":1, "id":"<32 hex>", "kdf":{"time":3,"memory_kib":65536,"threads":2},
//	     "salt":"<b64>", "key":{"nonce":"<b64>","sealed":"<b64>"}, "created":"<RFC 3339>"}
//	<repo>/objects/    a local blob store (package artifact/backend/local): file contents
//	<repo>/snapshots/  a second local blob store: snapshot descriptions
//	<repo>/lock        flock(2) file: Forget and Prune (which delete) hold it
//	                   exclusively, the other operations (Create included) shared;
//	                   a conflict fails with ErrLocked (Create first sweeps
//	                   temporary files when it can hold it exclusively)
//
// The repository key is 32 random bytes (the data key). It is stored sealed
// with AES-256-GCM under a key-encryption key derived from the passphrase
// with argon2id (the "kdf" costs and "salt") and then HKDF-SHA256 with the
// label "phoenix backup kek v1"; the repository id is the sealing's
// additional data, so a key file cannot be moved to another repository.
//
// Every object (a file's contents or a snapshot's JSON) is encrypted with
// the STREAM construction used by age: the header is "PHXBK1\n" and 32
// random salt bytes; the object key is HKDF-SHA256(data key, salt,
// "phoenix backup object v1"); the plaintext is cut into 64 KiB chunks, each
// sealed with AES-256-GCM under the nonce chunk-counter (11 bytes, big
// endian) || last-chunk flag (1 byte). An empty plaintext is a single empty
// last chunk. Truncation, reordering, trailing bytes and altered bytes all
// fail authentication.
//
// Objects are named by the sha256 of their stored (encrypted) bytes, so the
// blob store's digest check holds and a renamed object is detected. A
// snapshot's id is the hex part of its object's name. A snapshot lists every
// file of the data dir with its slash-separated path, permission bits, size,
// plaintext digest and object; it is written last, so a backup that stops
// half way leaves only unreferenced objects, which Prune removes.
//
// A snapshot's JSON puts its file list last ("time", "host", "version",
// "size", "added", "count", then "files"), so listing reads and decrypts
// only the first chunk of each snapshot (its head), whatever its size;
// loading a snapshot checks that the head says what the whole does.
//
// Deduplication is per file: Create reuses the object of any file whose
// plaintext digest the newest readable snapshot recorded (each snapshot is
// a whole data dir, so the newest holds what the next one can reuse, and a
// backup's cost stays flat as snapshots accumulate). Content-addressed
// blobs (blobs/sha256/...) are recognised by name without being read.
package backup

import "errors"

// Errors returned (wrapped) by this package.
var (
	// ErrWrongKey means the passphrase does not open the repository.
	ErrWrongKey = errors.New("wrong passphrase or key file for this backup repository")
	// ErrNotRepo means there is no backup repository at the path.
	ErrNotRepo = errors.New("not a phoenix backup repository")
	// ErrExists means Init was given a directory that is not empty.
	ErrExists = errors.New("directory is not empty")
	// ErrNotFound means no snapshot matches the id, prefix or "latest".
	ErrNotFound = errors.New("snapshot not found")
	// ErrAmbiguous means an id prefix matches more than one snapshot.
	ErrAmbiguous = errors.New("snapshot id prefix is ambiguous")
	// ErrCorrupt means stored data fails authentication, its digest or
	// validation.
	ErrCorrupt = errors.New("backup data is corrupt")
	// ErrTargetNotEmpty means Restore (or IntoNewDir) was given a target
	// that exists and is not an empty directory.
	ErrTargetNotEmpty = errors.New("the target exists and is not an empty directory")
	// ErrMountPoint means Restore (or IntoNewDir) was given a target that
	// is a mount point, which it cannot replace with the folder it fills.
	ErrMountPoint = errors.New("the target is a mount point")
	// ErrNoSpace means the file system a Restore writes to has less
	// free space than the snapshot needs (a *SpaceError says how much).
	ErrNoSpace = errors.New("not enough free space")
	// ErrLocked means another process or operation holds the repository
	// lock that this operation needs.
	ErrLocked = errors.New("backup repository is locked by another operation")
)
