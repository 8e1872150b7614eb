package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrClaimed means the prefix already holds another server's blobs.
var ErrClaimed = errors.New("the prefix holds another server's blobs")

// ownerKey is the object naming the server whose blobs the prefix holds:
// <prefix>blobs/phoenix-owner, beside (not among) the blobs.
func (s *Store) ownerKey() string {
	return strings.TrimSuffix(s.keys, "sha256/") + "phoenix-owner"
}

// Identity names the place the store keeps its blobs, for servers that
// must agree on one: the endpoint (or AWS), the bucket and the prefix
// (s3://bucket/prefix at http://minio:9000), the endpoint as written but
// for the case of its scheme and host and a trailing slash. Compare two
// with SameIdentity, not ==. It never holds credentials: an endpoint with
// any is refused by New.
func (s *Store) Identity() string { return s.id }

func identity(endpoint, bucket, prefix string) string {
	at := "AWS"
	if endpoint != "" {
		u, _ := url.Parse(endpoint) // checked by s3conn.Open
		at = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/")
	}
	return strings.TrimSuffix("s3://"+bucket+"/"+prefix, "/") + " at " + at
}

// SameIdentity reports whether two Identity values name one place: their
// endpoints are compared in their normal form (normalEndpoint), so
// https://S3.example.com:443/ and https://s3.example.com are one store.
// The bucket and the prefix are compared as Identity spells them
// (s3://bucket/prefix/ is s3://bucket/prefix).
func SameIdentity(a, b string) bool { return normalIdentity(a) == normalIdentity(b) }

func normalIdentity(id string) string {
	i := strings.LastIndex(id, " at ") // the endpoint has no space: its path is escaped
	if i < 0 {
		return id
	}
	return id[:i] + " at " + normalEndpoint(id[i+len(" at "):])
}

// defaultPorts are the ports an endpoint URL need not name.
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// normalEndpoint is the one spelling of an endpoint URL: the scheme and
// host lowercased, the scheme's default port and a trailing slash
// dropped, the path kept. What is not a URL with a host (AWS, in an
// Identity) is returned as it is.
func normalEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return endpoint
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if p := u.Port(); p == "" || p == defaultPorts[scheme] {
		host = strings.TrimSuffix(host, ":"+p) // p == "": a lone ':'
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// Claim makes owner (an id the server keeps in its data dir) the owner of
// the prefix when it has none, and fails with ErrClaimed when another owner
// has it: two servers sharing a prefix would each garbage-collect the
// other's blobs.
func (s *Store) Claim(ctx context.Context, owner string) error {
	k := s.ownerKey()
	out, err := s.c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if notFound(err) {
		_, err = s.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k),
			Body: strings.NewReader(owner), ContentType: aws.String("text/plain")})
		if err != nil {
			return fmt.Errorf("blob store %s: claim: %w", s.url, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob store %s: read its owner: %w", s.url, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(io.LimitReader(out.Body, 1<<10))
	if err != nil {
		return fmt.Errorf("blob store %s: read its owner: %w", s.url, err)
	}
	if strings.TrimSpace(string(got)) != owner {
		return fmt.Errorf("blob store %s: %w (owner %.16q; give each server its own prefix)", s.url, ErrClaimed, got)
	}
	return nil
}
