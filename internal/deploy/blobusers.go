package deploy

import (
	"context"
	"fmt"
	"slices"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// BlobUser is a deployment whose artifact holds a given blob.
type BlobUser struct {
	ID          int64  `json:"id"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Release     string `json:"release,omitempty"`
}

// String names the deployment for a message: "site/production #12 (v1.2.0)".
func (u BlobUser) String() string {
	s := fmt.Sprintf("%s/%s #%d", u.Project, u.Environment, u.ID)
	if u.Release != "" {
		s += " (" + u.Release + ")"
	}
	return s
}

// BlobUsers returns, for each of blobs that some stored artifact holds,
// the deployments of those artifacts, newest first: what a damaged blob
// puts at risk.
func (s *Service) BlobUsers(ctx context.Context, blobs []backend.Digest) (map[backend.Digest][]BlobUser, error) {
	holders, err := s.artifactsHolding(ctx, blobs)
	if err != nil {
		return nil, err
	}
	out := map[backend.Digest][]BlobUser{}
	if len(holders) == 0 {
		return out, nil
	}
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT d.id, d.project, d.environment, a.release, d.artifact
		FROM deployments d JOIN artifacts a ON a.digest = d.artifact ORDER BY d.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("deploy: deployments of blobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u BlobUser
		var art string
		if err := rows.Scan(&u.ID, &u.Project, &u.Environment, &u.Release, &art); err != nil {
			return nil, err
		}
		for _, b := range holders[art] {
			out[b] = append(out[b], u)
		}
	}
	return out, rows.Err()
}

// artifactsHolding maps the digest of each stored artifact that holds one
// of blobs to those it holds.
func (s *Service) artifactsHolding(ctx context.Context, blobs []backend.Digest) (map[string][]backend.Digest, error) {
	want := map[backend.Digest]bool{}
	for _, b := range blobs {
		want[b] = true
	}
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT digest, manifest FROM artifacts`)
	if err != nil {
		return nil, fmt.Errorf("deploy: artifacts of blobs: %w", err)
	}
	defer rows.Close()
	out := map[string][]backend.Digest{}
	for rows.Next() {
		var digest string
		var canon []byte
		if err := rows.Scan(&digest, &canon); err != nil {
			return nil, err
		}
		m, err := artifact.Decode(canon)
		if err != nil {
			return nil, fmt.Errorf("deploy: artifact %s: the stored manifest does not decode: %w", digest, err)
		}
		for _, b := range m.Blobs() {
			if want[b.Digest] && !slices.Contains(out[digest], b.Digest) {
				out[digest] = append(out[digest], b.Digest)
			}
		}
	}
	return out, rows.Err()
}
