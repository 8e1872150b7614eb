// Package mirror keeps a copy of a backup repository in S3-compatible
// storage, away from the machine it protects (the seed's geo-redundant
// backups). A repository is a folder of immutable, encrypted objects, so a
// mirror is a file-for-file copy under a key prefix: Push uploads what the
// bucket lacks and deletes what the repository no longer holds, Pull
// downloads a mirror into a new folder that 'phoenix backup restore' reads.
//
// The bucket only ever holds what the repository holds: ciphertext, the
// wrapped data key and the key-derivation parameters. Neither the
// repository's key nor any plaintext leaves the machine.
package mirror

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/s3conn"
)

// Config says where the mirror is and how to reach it: an s3://bucket/prefix
// URL, an optional endpoint and region, and the credentials.
type Config = s3conn.Config

// S3 is a mirror in one bucket under one prefix.
type S3 struct {
	c      *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	url    string
	// Files over single go up in parts of partSize bytes
	// (s3conn.PutParts): s3conn.MaxSinglePut and s3conn.PartSize, smaller
	// in tests.
	single, partSize int64
}

// New returns the mirror of cfg. It does not contact the storage.
func New(cfg Config) (*S3, error) {
	p, err := s3conn.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return &S3{c: p.Client, bucket: p.Bucket, prefix: p.Prefix, url: p.URL, single: s3conn.MaxSinglePut, partSize: s3conn.PartSize}, nil
}

// String is the mirror's URL (no credentials).
func (m *S3) String() string { return m.url }

// Report counts what a Push or Pull moved.
type Report struct {
	Uploaded   int   `json:"uploaded,omitempty"`
	Deleted    int   `json:"deleted,omitempty"`
	Downloaded int   `json:"downloaded,omitempty"`
	Bytes      int64 `json:"bytes"`
}
