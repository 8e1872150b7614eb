package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// BlobUser is a retained deployment whose artifact names a blob.
type BlobUser struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Deployment  int64  `json:"deployment"`
	// Active: the environment serves this deployment now.
	Active bool `json:"active"`
}

func (u BlobUser) String() string {
	s := fmt.Sprintf("%s/%s deployment %d", u.Project, u.Environment, u.Deployment)
	if u.Active {
		s += " (active)"
	}
	return s
}

// RetainedBlob is a blob that retained deployments need, with its size
// as their manifests record it and those deployments.
type RetainedBlob struct {
	backend.Info
	Users []BlobUser
}

// RetainedBlobs lists every blob a retained deployment's artifact names
// (files and their variants), sorted by digest, each with the
// deployments using it, newest first. A blob check (phoenix store
// verify) reads them to say which deployment a damaged blob breaks.
func (s *Service) RetainedBlobs(ctx context.Context) ([]RetainedBlob, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT d.id, d.project, d.environment, d.id = COALESCE(e.active_id, 0), a.digest, a.manifest
		FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		JOIN environments e ON e.project = d.project AND e.name = d.environment
		ORDER BY d.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("deploy: retained blobs: %w", err)
	}
	defer rows.Close()
	blobs := map[backend.Digest]*RetainedBlob{}
	manifests := map[string][]backend.Info{} // decoded once per artifact
	for rows.Next() {
		var u BlobUser
		var art string
		var canon []byte
		if err := rows.Scan(&u.Deployment, &u.Project, &u.Environment, &u.Active, &art, &canon); err != nil {
			return nil, err
		}
		infos, ok := manifests[art]
		if !ok {
			m, err := artifact.Decode(canon)
			if err != nil {
				return nil, fmt.Errorf("deploy: the manifest of artifact %s does not decode: %w", art, err)
			}
			infos = m.Blobs()
			manifests[art] = infos
		}
		for _, in := range infos {
			b := blobs[in.Digest]
			if b == nil {
				b = &RetainedBlob{Info: in}
				blobs[in.Digest] = b
			}
			b.Users = append(b.Users, u)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]RetainedBlob, 0, len(blobs))
	for _, b := range blobs {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b RetainedBlob) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	return out, nil
}

// BlobUsers returns, for each of blobs that a retained deployment needs,
// those deployments, newest first: what a damaged blob puts at risk (a
// backup that found one names them).
func (s *Service) BlobUsers(ctx context.Context, blobs []backend.Digest) (map[backend.Digest][]BlobUser, error) {
	all, err := s.RetainedBlobs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[backend.Digest][]BlobUser{}
	for _, b := range all {
		if slices.Contains(blobs, b.Digest) {
			out[b.Digest] = b.Users
		}
	}
	return out, nil
}
