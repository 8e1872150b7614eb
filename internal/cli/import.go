package cli

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/artifact"
)

// importArtifact reads an artifact file into the target's staging store.
func importArtifact(ctx context.Context, src string, t *target) (*artifact.Manifest, error) {
	return nil, usageErr("%s is not a folder; deploying artifact files arrives with 'phoenix artifact build --out'", src)
}
