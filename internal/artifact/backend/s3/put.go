package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Put stores r under d; see backend.Backend. The bytes are verified before
// anything is sent (see the package documentation), so a mismatched,
// short, long, failed or cancelled Put leaves no object behind.
func (s *Store) Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error {
	k, err := s.key(d)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", d, err)
	}
	if _, err := s.Stat(ctx, d); err == nil {
		return nil
	} else if !errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("put: %w", err)
	}
	body, n, done, err := s.verified(ctx, d, r, size)
	if err != nil {
		return err
	}
	defer done()
	if n > s.single {
		return s.putMultipart(ctx, d, k, body, n)
	}
	_, err = s.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k),
		Body: body, ContentLength: aws.Int64(n), ChecksumSHA256: aws.String(checksum(d)),
		ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return s.fail("put", d, err)
	}
	return nil
}

// verified returns a seekable body holding r's bytes once they check out
// against d and size, its length, and a function that releases it. An
// *os.File is hashed where it is; anything else is spooled to a temporary
// file while it is hashed.
func (s *Store) verified(ctx context.Context, d backend.Digest, r io.Reader, size int64) (*io.SectionReader, int64, func(), error) {
	if f, ok := r.(*os.File); ok {
		if off, err := f.Seek(0, io.SeekCurrent); err == nil {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				n, err := backend.CopyVerified(ctx, io.Discard, io.NewSectionReader(f, off, fi.Size()-off), d, size)
				if err != nil {
					return nil, 0, nil, err
				}
				return io.NewSectionReader(f, off, n), n, func() {}, nil
			}
		}
	}
	tmp, err := os.CreateTemp(s.spool, ".tmp-s3put-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("put %s: spool: %w", d, err)
	}
	done := func() { tmp.Close(); os.Remove(tmp.Name()) }
	n, err := backend.CopyVerified(ctx, tmp, r, d, size)
	if err != nil {
		done()
		return nil, 0, nil, err
	}
	return io.NewSectionReader(tmp, 0, n), n, done, nil
}
