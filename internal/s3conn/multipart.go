package s3conn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3's limits: one PutObject takes at most 5 GiB; a multipart upload at
// most 10,000 parts of at least 5 MiB (the last may be smaller).
const (
	MaxSinglePut = 5 << 30
	MinPartSize  = 5 << 20
	maxParts     = 10000
	// PartSize is the part size Phoenix uploads with.
	PartSize = 64 << 20
)

// PartSizeFor is the part size of an n-byte object: part, or larger when
// 10,000 parts of it would not hold n.
func PartSizeFor(n, part int64) int64 {
	if need := (n + maxParts - 1) / maxParts; need > part {
		return need
	}
	return part
}

// PutParts uploads the n bytes of body to key as a multipart upload in
// parts of PartSizeFor(n, part) bytes, each carrying its sha256, which S3
// checks. The object appears only when the upload completes; on any error
// the upload is aborted, so nothing is left behind.
func PutParts(ctx context.Context, c *s3.Client, bucket, key string, body io.ReaderAt, n, part int64) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("multipart upload: %w", err)
	}
	parts, err := uploadParts(ctx, c, bucket, key, up.UploadId, body, n, PartSizeFor(n, part))
	if err == nil {
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	if err != nil {
		_, _ = c.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket),
			Key: aws.String(key), UploadId: up.UploadId})
		return fmt.Errorf("multipart upload: %w", err)
	}
	return nil
}

// uploadParts sends body in parts of size bytes, in order.
func uploadParts(ctx context.Context, c *s3.Client, bucket, key string, id *string, body io.ReaderAt, n, size int64) ([]types.CompletedPart, error) {
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < n || num == 1; off, num = off+size, num+1 { // an empty object is one empty part
		sec := io.NewSectionReader(body, off, min(size, n-off))
		h := sha256.New()
		if _, err := io.Copy(h, sec); err != nil {
			return nil, fmt.Errorf("part %d: %w", num, err)
		}
		sum := base64.StdEncoding.EncodeToString(h.Sum(nil))
		if _, err := sec.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
			PartNumber: aws.Int32(num), Body: sec, ContentLength: aws.Int64(sec.Size()), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ChecksumSHA256: aws.String(sum)})
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumSHA256: aws.String(sum)})
	}
	return parts, nil
}
