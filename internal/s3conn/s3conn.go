// Package s3conn is how Phoenix names and reaches a place in S3-compatible
// storage: an s3://bucket/prefix URL, an optional endpoint (MinIO,
// versitygw, Ceph, R2, ...; addressed path-style), a region and static
// credentials. The backup mirror and the artifact blob store both build
// their client here, so the two read the same flags the same way.
//
// Credentials never appear in an error or in String: only the URL does.
package s3conn

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

// Config says where a place in S3 is and how to reach it.
type Config struct {
	// URL is s3://bucket/prefix (the prefix is optional).
	URL string
	// Endpoint is the S3 API's base URL for S3-compatible storage; empty
	// for AWS. A custom endpoint is addressed path-style.
	Endpoint string
	// Region defaults to us-east-1.
	Region string
	// AccessKey and SecretKey are the credentials (callers read them from
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
	AccessKey, SecretKey string
}

// ErrNoCredentials means Config has no access key or no secret key.
var ErrNoCredentials = errors.New("no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")

// ParseURL splits s3://bucket/prefix. The prefix comes back clean,
// without a leading slash, and ending in "/" unless it is empty.
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%q is not an S3 URL: write s3://bucket/prefix", raw)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" && (path.Clean(prefix) != prefix || prefix == "." || strings.Contains("/"+prefix+"/", "/../")) {
		return "", "", fmt.Errorf("%q: the prefix must be a clean path", raw)
	}
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// Place is a parsed Config: a client, a bucket and a key prefix.
type Place struct {
	Client *s3.Client
	Bucket string
	Prefix string // "" or ending in "/"
	URL    string // as given, for messages
}

// Open checks cfg and returns its client. It does not contact the storage.
func Open(cfg Config) (*Place, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, ErrNoCredentials
	}
	if err := CheckEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	o := s3.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		// Checksums only where the API requires them (or the caller sets
		// one): several S3-compatible stores reject the SDK's newer
		// default ones.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	if cfg.Endpoint != "" {
		o.BaseEndpoint, o.UsePathStyle = aws.String(cfg.Endpoint), true
	}
	return &Place{Client: s3.New(o), Bucket: bucket, Prefix: prefix, URL: cfg.URL}, nil
}

// String is the place's URL (no credentials).
func (p *Place) String() string { return p.URL }

// CheckEndpoint accepts "" or an http(s) base URL without credentials in
// it. The endpoint is quoted in the error only when it holds none.
func CheckEndpoint(e string) error {
	if e == "" {
		return nil
	}
	u, err := url.Parse(e)
	if strings.Contains(e, "@") || (err == nil && u.User != nil) {
		return errors.New("endpoint: credentials do not belong in the URL (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: write the S3 API's base URL, e.g. https://s3.example.com", e)
	}
	return nil
}
