// Package s3 is the blob backend on S3-compatible storage (AWS S3, MinIO,
// versitygw, Ceph, R2, ...), through aws-sdk-go-v2. Blobs are objects at
// <prefix>blobs/sha256/<first two hex digits>/<hex>: the local backend's
// layout under blobs/, so a data dir's blobs folder and a bucket's blobs/
// can be copied into each other with any sync tool.
//
// A Put never makes an unverified object visible: the bytes are hashed
// while they are spooled to a temporary file (or, for an *os.File, hashed
// in place), checked against the digest and the declared size, and only
// then sent in one PutObject carrying their ChecksumSHA256, which S3 checks
// again before the object exists; one over 5 GiB goes up as a multipart
// upload whose parts each carry theirs, and exists once it completes. An
// object appears whole or not at all.
//
// Errors name the operation, the digest and the store's URL; never the
// credentials.
package s3

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/s3conn"
)

// Config says where the store is: an s3://bucket/prefix URL, an optional
// endpoint and region, and the credentials (s3conn.Config), plus where Put
// spools.
type Config struct {
	s3conn.Config
	// SpoolDir holds the temporary files Put hashes into before it
	// uploads; default os.TempDir().
	SpoolDir string
}

// Store is a blob backend in one bucket under one prefix. It is safe for
// concurrent use.
type Store struct {
	c      *awss3.Client
	bucket string
	keys   string // "<prefix>blobs/sha256/"
	url    string
	id     string // Identity
	spool  string
	// Objects over single go up in parts of partSize bytes (multipart.go):
	// s3conn.MaxSinglePut and s3conn.PartSize, smaller in tests.
	single, partSize int64
}

var _ backend.Backend = (*Store)(nil)

// New returns the store of cfg. It does not contact the storage; Check
// does.
func New(cfg Config) (*Store, error) {
	p, err := s3conn.Open(cfg.Config)
	if err != nil {
		return nil, err
	}
	spool := cfg.SpoolDir
	if spool == "" {
		spool = os.TempDir()
	}
	return &Store{c: p.Client, bucket: p.Bucket, keys: p.Prefix + "blobs/" + backend.Algorithm + "/", url: p.URL, spool: spool,
		id:     identity(cfg.Endpoint, p.Bucket, p.Prefix),
		single: s3conn.MaxSinglePut, partSize: s3conn.PartSize}, nil
}

// String is the store's URL (no credentials).
func (s *Store) String() string { return s.url }

// Check reaches the bucket with the store's credentials: it lists at most
// one blob, so a wrong endpoint, bucket, region or key fails here, at
// start, rather than at the first deploy.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.keys), MaxKeys: aws.Int32(1)})
	if err != nil {
		return fmt.Errorf("blob store %s: cannot list the bucket: %w", s.url, err)
	}
	return nil
}

// key is d's object key, after checking d.
func (s *Store) key(d backend.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	h := d.Hex()
	return s.keys + h[:2] + "/" + h, nil
}

// digestOf is the digest a listed key names, if it is a blob's key.
func (s *Store) digestOf(key string) (backend.Digest, bool) {
	rest, ok := strings.CutPrefix(key, s.keys)
	if !ok || len(rest) != 3+64 || rest[2] != '/' || rest[:2] != rest[3:5] {
		return "", false
	}
	d := backend.Digest(backend.Algorithm + ":" + rest[3:])
	return d, d.Validate() == nil
}

// fail wraps an SDK error with the operation and digest, mapping a missing
// object to backend.ErrNotFound.
func (s *Store) fail(op string, d backend.Digest, err error) error {
	if notFound(err) {
		return fmt.Errorf("%s %s: %w", op, d, backend.ErrNotFound)
	}
	return fmt.Errorf("%s %s in %s: %w", op, d, s.url, err)
}

// notFound reports whether err is S3's answer for a missing object (404:
// NoSuchKey, or NotFound to a HEAD, which has no body), not for a missing
// bucket.
func notFound(err error) bool {
	var status interface{ HTTPStatusCode() int }
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket" {
		return false
	}
	return errors.As(err, &status) && status.HTTPStatusCode() == 404
}

// Stat returns d's size.
func (s *Store) Stat(ctx context.Context, d backend.Digest) (backend.Info, error) {
	k, err := s.key(d)
	if err != nil {
		return backend.Info{}, err
	}
	out, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil {
		return backend.Info{}, s.fail("stat", d, err)
	}
	return backend.Info{Digest: d, Size: aws.ToInt64(out.ContentLength)}, nil
}

// Get opens d for reading; the body ends with ctx.
func (s *Store) Get(ctx context.Context, d backend.Digest) (io.ReadCloser, error) {
	k, err := s.key(d)
	if err != nil {
		return nil, err
	}
	out, err := s.c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil {
		return nil, s.fail("get", d, err)
	}
	return out.Body, nil
}

// List calls fn for every blob under the prefix; other keys are ignored.
func (s *Store) List(ctx context.Context, fn func(backend.Digest) error) error {
	return s.ListInfo(ctx, func(i backend.Info) error { return fn(i.Digest) })
}

// ListInfo is List with each blob's size, which the listing carries anyway
// (a cache learns what the bucket holds from it without a request per blob).
func (s *Store) ListInfo(ctx context.Context, fn func(backend.Info) error) error {
	p := awss3.NewListObjectsV2Paginator(s.c, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.keys)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list blobs in %s: %w", s.url, err)
		}
		for _, o := range page.Contents {
			if d, ok := s.digestOf(aws.ToString(o.Key)); ok {
				if err := fn(backend.Info{Digest: d, Size: aws.ToInt64(o.Size)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Delete removes d. S3 deletes missing keys silently, so d is looked up
// first to answer ErrNotFound as the contract asks.
func (s *Store) Delete(ctx context.Context, d backend.Digest) error {
	if _, err := s.Stat(ctx, d); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	k, _ := s.key(d)
	if _, err := s.c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)}); err != nil {
		return s.fail("delete", d, err)
	}
	return nil
}

// checksum is S3's form of a sha256 digest: the raw sum in base64.
func checksum(d backend.Digest) string {
	raw, _ := hex.DecodeString(d.Hex())
	return base64.StdEncoding.EncodeToString(raw)
}
