package s3

import (
	"context"
	"io"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/s3conn"
)

// putMultipart uploads the verified body of an object too large for one
// PutObject in parts, each carrying its sha256 (s3conn.PutParts): the
// object appears only when the upload completes, and a failed part aborts
// it, leaving nothing.
func (s *Store) putMultipart(ctx context.Context, d backend.Digest, k string, body io.ReaderAt, n int64) error {
	if err := s3conn.PutParts(ctx, s.c, s.bucket, k, body, n, s.partSize); err != nil {
		return s.fail("put", d, err)
	}
	return nil
}
