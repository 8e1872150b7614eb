package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// S3's limits: one PutObject takes at most 5 GiB; a multipart upload at
// most 10,000 parts of at least 5 MiB (the last may be smaller).
const (
	maxSinglePut = 5 << 30
	minPartSize  = 5 << 20
	maxParts     = 10000
	partSize     = 64 << 20 // Phoenix's part size below maxParts
)

// partSizeFor is the part size of an n-byte object: partSize, or larger
// when 10,000 parts of it would not hold n.
func partSizeFor(n, part int64) int64 {
	if need := (n + maxParts - 1) / maxParts; need > part {
		return need
	}
	return part
}

// putMultipart uploads the verified body of an object too large for one
// PutObject as a multipart upload: each part carries its sha256, which
// S3 checks, and the object appears only when the upload completes; a
// failed part aborts the upload, so nothing is left behind.
func (s *Store) putMultipart(ctx context.Context, d backend.Digest, k string, body io.ReaderAt, n int64) error {
	up, err := s.c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(k),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return s.fail("put (multipart)", d, err)
	}
	parts, err := s.uploadParts(ctx, k, up.UploadId, body, n)
	if err == nil {
		_, err = s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(k),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	if err != nil {
		_, _ = s.c.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket),
			Key: aws.String(k), UploadId: up.UploadId})
		return s.fail("put (multipart)", d, err)
	}
	return nil
}

// uploadParts sends body in parts of partSizeFor(n) bytes, in order.
func (s *Store) uploadParts(ctx context.Context, k string, id *string, body io.ReaderAt, n int64) ([]types.CompletedPart, error) {
	size := partSizeFor(n, s.partSize)
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < n; off, num = off+size, num+1 {
		sec := io.NewSectionReader(body, off, min(size, n-off))
		h := sha256.New()
		if _, err := io.Copy(h, sec); err != nil {
			return nil, fmt.Errorf("part %d: %w", num, err)
		}
		sum := base64.StdEncoding.EncodeToString(h.Sum(nil))
		if _, err := sec.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		out, err := s.c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(s.bucket), Key: aws.String(k), UploadId: id,
			PartNumber: aws.Int32(num), Body: sec, ContentLength: aws.Int64(sec.Size()), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ChecksumSHA256: aws.String(sum)})
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumSHA256: aws.String(sum)})
	}
	return parts, nil
}
