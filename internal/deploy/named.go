package deploy

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// NamedBlobs is every blob a recorded artifact or an open upload names:
// what garbage collection keeps. A server sharing the blob store whose
// local cache this service does not collect (a replica that does not
// lead) trims its cache to it.
func (s *Service) NamedBlobs(ctx context.Context) (map[backend.Digest]bool, error) {
	return s.referencedBlobs(ctx)
}
