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
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config says where the mirror is and how to reach it.
type Config struct {
	// URL is s3://bucket/prefix.
	URL string
	// Endpoint is the S3 API's base URL for S3-compatible storage (MinIO,
	// versitygw, Ceph, R2, ...); empty for AWS. A custom endpoint is
	// addressed path-style.
	Endpoint string
	// Region defaults to us-east-1.
	Region string
	// AccessKey and SecretKey are the credentials (the caller reads them
	// from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
	AccessKey, SecretKey string
}

// S3 is a mirror in one bucket under one prefix.
type S3 struct {
	c      *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	url    string
}

// ParseURL splits s3://bucket/prefix.
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("mirror %q: write s3://bucket/prefix", raw)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" && (path.Clean(prefix) != prefix || prefix == "." || strings.Contains("/"+prefix+"/", "/../")) {
		return "", "", fmt.Errorf("mirror %q: the prefix must be a clean path", raw)
	}
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// New returns the mirror of cfg. It does not contact the storage.
func New(cfg Config) (*S3, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("mirror: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	o := s3.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		// Checksums only where the API requires them: several
		// S3-compatible stores reject the SDK's newer default ones.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	if cfg.Endpoint != "" {
		o.BaseEndpoint, o.UsePathStyle = aws.String(cfg.Endpoint), true
	}
	return &S3{c: s3.New(o), bucket: bucket, prefix: prefix, url: cfg.URL}, nil
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
