package deploy

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Upload is an artifact on its way in: its manifest is recorded, its blobs
// arrive one by one, and Finalize turns it into a deployment. Blobs named by
// an open upload are never garbage-collected.
type Upload struct {
	ID       string           `json:"id"`
	Project  string           `json:"project"`
	Digest   backend.Digest   `json:"digest"`
	Missing  []backend.Digest `json:"missing"`
	Files    int              `json:"files"`
	Bytes    int64            `json:"bytes"`
	Expires  time.Time        `json:"expires"`
	manifest *artifact.Manifest
}

// BeginUpload records manifest data for project and answers with the blobs
// the store lacks. Calling it again with the same manifest resumes: blobs
// that arrived since are no longer missing.
func (s *Service) BeginUpload(ctx context.Context, project string, data []byte) (*Upload, error) {
	m, err := artifact.Decode(data)
	if err != nil {
		return nil, usererr.Wrap(usererr.Invalid, err, "manifest: "+err.Error())
	}
	if len(m.Files) == 0 {
		// artifact.Build refuses such a folder, naming it; this is for a
		// manifest made elsewhere (an API client's own).
		return nil, usererr.New(usererr.Invalid, "manifest: no files: a release of no files would answer 404 on every path").
			WithHint("build the artifact from the folder your build writes its output to (e.g. dist/ after 'npm run build')")
	}
	if err := s.EnsureProject(ctx, project); err != nil {
		return nil, err
	}
	canon, err := m.Canonical()
	if err != nil {
		return nil, usererr.Wrap(usererr.Invalid, err, "manifest: "+err.Error())
	}
	d := backend.Sum(canon)
	up := &Upload{Project: project, Digest: d, Expires: s.opts.Now().Add(s.opts.UploadTTL).UTC(), manifest: m}
	up.ID, err = s.openUpload(ctx, project, d, canon, up.Expires)
	if err != nil {
		return nil, err
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	for _, b := range m.Blobs() {
		up.Files++
		up.Bytes += b.Size
		info, err := s.opts.Blobs.Stat(ctx, b.Digest)
		if errors.Is(err, backend.ErrNotFound) || (err == nil && info.Size != b.Size) {
			up.Missing = append(up.Missing, b.Digest)
		} else if err != nil {
			return nil, fmt.Errorf("deploy: stat %s: %w", b.Digest, err)
		}
	}
	return up, nil
}

// openUpload reuses the open upload of the same manifest, or starts one.
func (s *Service) openUpload(ctx context.Context, project string, d backend.Digest, canon []byte, expires time.Time) (string, error) {
	var id string
	err := s.opts.DB.QueryRowContext(ctx,
		`SELECT id FROM uploads WHERE project = $1 AND digest = $2`, project, string(d)).Scan(&id)
	if err == nil {
		_, err = s.opts.DB.ExecContext(ctx, `UPDATE uploads SET expires_at = $1 WHERE id = $2`,
			fmtTime(expires), id)
		return id, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("deploy: find upload: %w", err)
	}
	id = newID()
	_, err = s.opts.DB.ExecContext(ctx, `INSERT INTO uploads (id, project, manifest, digest, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, project, canon, string(d), s.now(), fmtTime(expires))
	if err != nil {
		return "", fmt.Errorf("deploy: record upload: %w", err)
	}
	return id, nil
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// UploadProject returns the project an open upload belongs to, so callers
// can authorize blob uploads and finalization before acting.
func (s *Service) UploadProject(ctx context.Context, id string) (string, error) {
	var project string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT project FROM uploads WHERE id = $1`, id).Scan(&project)
	if errors.Is(err, sql.ErrNoRows) {
		return "", usererr.New(usererr.NotFound, "no open upload %q", id).WithHint("start again: the deploy resumes where it stopped")
	}
	if err != nil {
		return "", fmt.Errorf("deploy: load upload %s: %w", id, err)
	}
	return project, nil
}

// loadUpload returns an open upload and its manifest.
func (s *Service) loadUpload(ctx context.Context, id string) (*Upload, error) {
	var canon []byte
	var expires string
	up := &Upload{ID: id}
	err := s.opts.DB.QueryRowContext(ctx, `SELECT project, manifest, digest, expires_at FROM uploads WHERE id = $1`, id).
		Scan(&up.Project, &canon, &up.Digest, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usererr.New(usererr.NotFound, "no open upload %q", id).WithHint("start again: the deploy resumes where it stopped")
	}
	if err != nil {
		return nil, fmt.Errorf("deploy: load upload %s: %w", id, err)
	}
	up.Expires, _ = time.Parse(time.RFC3339Nano, expires)
	if up.manifest, err = artifact.Decode(canon); err != nil {
		return nil, fmt.Errorf("deploy: upload %s: stored manifest: %w", id, err)
	}
	return up, nil
}

// PutBlob stores one blob of an open upload. The bytes are checked against
// the digest as they are written; a blob the manifest does not name is
// refused, so an upload cannot be used to store arbitrary content.
func (s *Service) PutBlob(ctx context.Context, uploadID string, d backend.Digest, r io.Reader, size int64) error {
	up, err := s.loadUpload(ctx, uploadID)
	if err != nil {
		return err
	}
	want := int64(-1)
	for _, b := range up.manifest.Blobs() {
		if b.Digest == d {
			want = b.Size
		}
	}
	if want < 0 {
		return usererr.New(usererr.Invalid, "blob %s is not part of upload %s", d, uploadID)
	}
	if size >= 0 && size != want {
		return usererr.New(usererr.Invalid, "blob %s: %d bytes sent, the manifest says %d", d, size, want)
	}
	err = s.opts.Blobs.Put(ctx, d, r, want)
	if errors.Is(err, backend.ErrDigestMismatch) || errors.Is(err, backend.ErrSizeMismatch) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The bytes that arrived are not the blob: cut short or changed on
		// the way, not a wrong command line. Sending them again may work:
		// a Conflict (409; exit 1), not Invalid (400; exit 2, "fix it").
		return usererr.Wrap(usererr.Conflict, err, fmt.Sprintf("blob %s rejected: %v", d, err)).
			WithHint("the upload was truncated or altered; run the deploy again to resume")
	}
	return err
}
