package deploy

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// GCStats reports what a collection removed.
type GCStats struct {
	Deployments int `json:"deployments"`
	Artifacts   int `json:"artifacts"`
	Uploads     int `json:"uploads"`
	Blobs       int `json:"blobs"`
}

// CollectGarbage applies retention and deletes unreferenced blobs:
//  1. per environment, deployments beyond the newest Keep are dropped (the
//     active one is always kept, even when it is older);
//  2. expired uploads and artifacts no deployment references are dropped;
//  3. blobs named by no remaining artifact and no open upload are deleted.
//
// Steps 1-2 are one transaction. Step 3 runs under the gc lock, which
// BeginUpload and Finalize hold shared, so a blob an upload was told is
// present cannot vanish before that upload is finalized. A crash midway
// leaves extra blobs behind (collected next time), never a missing one.
func (s *Service) CollectGarbage(ctx context.Context) (GCStats, error) {
	var st GCStats
	err := s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.prune(ctx, tx, &st); err != nil {
			return err
		}
		return s.audit(ctx, tx, Event{Action: "deploy.gc", Detail: fmt.Sprintf("retention dropped %d deployment(s), %d artifact(s), %d upload(s)",
			st.Deployments, st.Artifacts, st.Uploads)})
	})
	if err != nil {
		return st, fmt.Errorf("deploy: retention: %w", err)
	}
	s.holds.Lock() // after any backup copying the blobs (HoldBlobs)
	defer s.holds.Unlock()
	s.gc.Lock()
	defer s.gc.Unlock()
	keep, err := s.referencedBlobs(ctx)
	if err != nil {
		return st, err
	}
	n, err := s.deleteUnreferenced(ctx, keep)
	st.Blobs = n
	if n > 0 {
		for _, l := range listenersOf(s, &s.blobsDeleted) {
			l()
		}
	}
	if err != nil {
		return st, err
	}
	if st != (GCStats{}) {
		s.opts.Logger.Info("garbage collected", "deployments", st.Deployments, "artifacts", st.Artifacts, "uploads", st.Uploads, "blobs", st.Blobs)
	}
	return st, nil
}

// deleteUnreferenced deletes the stored blobs keep lacks. Through a
// backend.Settler (the local store) it leaves the blobs written or staged
// within its grace period: a deploy stages its blobs into the store before
// its upload names them.
func (s *Service) deleteUnreferenced(ctx context.Context, keep map[backend.Digest]bool) (int, error) {
	list, del := s.opts.Blobs.List, func(ctx context.Context, d backend.Digest) (bool, error) {
		return true, s.opts.Blobs.Delete(ctx, d)
	}
	if st, ok := s.opts.Blobs.(backend.Settler); ok {
		list, del = st.ListSettled, st.DeleteSettled
	}
	var doomed []backend.Digest
	err := list(ctx, func(d backend.Digest) error {
		if !keep[d] {
			doomed = append(doomed, d)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("deploy: list blobs: %w", err)
	}
	n := 0
	for _, d := range doomed {
		gone, err := del(ctx, d)
		if err != nil {
			return n, fmt.Errorf("deploy: delete blob: %w", err)
		}
		if gone {
			n++
		}
	}
	return n, nil
}

func (s *Service) prune(ctx context.Context, tx *sql.Tx, st *GCStats) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM deployments WHERE id IN (
		SELECT d.id FROM deployments d JOIN environments e ON e.project = d.project AND e.name = d.environment
		WHERE d.id <> COALESCE(e.active_id, 0) AND (
			SELECT COUNT(*) FROM deployments n WHERE n.project = d.project AND n.environment = d.environment AND n.id > d.id
		) >= $1)`, s.opts.Keep)
	if err != nil {
		return err
	}
	st.Deployments = affected(res)
	if res, err = tx.ExecContext(ctx, `DELETE FROM uploads WHERE expires_at < $1`, s.now()); err != nil {
		return err
	}
	st.Uploads = affected(res)
	res, err = tx.ExecContext(ctx, `DELETE FROM artifacts WHERE digest NOT IN (SELECT artifact FROM deployments)`)
	if err != nil {
		return err
	}
	st.Artifacts = affected(res)
	return nil
}

func affected(r sql.Result) int {
	n, _ := r.RowsAffected()
	return int(n)
}

// referencedBlobs is every blob named by a recorded artifact or an open upload.
func (s *Service) referencedBlobs(ctx context.Context) (map[backend.Digest]bool, error) {
	return s.blobsOf(ctx, `SELECT manifest FROM artifacts UNION ALL SELECT manifest FROM uploads`)
}

// FetchRetained makes the blobs of every recorded artifact (those a
// retained deployment may activate) local files, when the blob store is a
// cache of a remote one (backend.Fetcher). A backup calls it under
// HoldBlobs, so the data dir it copies holds every blob its database
// names. Open uploads are left out: their blobs may not all exist yet.
func (s *Service) FetchRetained(ctx context.Context) error {
	f, ok := s.opts.Blobs.(backend.Fetcher)
	if !ok {
		return nil
	}
	keep, err := s.blobsOf(ctx, `SELECT manifest FROM artifacts`)
	if err != nil {
		return err
	}
	ds := make([]backend.Digest, 0, len(keep))
	for d := range keep {
		ds = append(ds, d)
	}
	if err := f.Fetch(ctx, ds); err != nil {
		return fmt.Errorf("deploy: make the retained blobs local: %w", err)
	}
	return nil
}

// blobsOf is every blob named by the manifests query selects.
func (s *Service) blobsOf(ctx context.Context, query string) (map[backend.Digest]bool, error) {
	rows, err := s.opts.DB.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("deploy: referenced blobs: %w", err)
	}
	defer rows.Close()
	keep := map[backend.Digest]bool{}
	for rows.Next() {
		var canon []byte
		if err := rows.Scan(&canon); err != nil {
			return nil, err
		}
		m, err := artifact.Decode(canon)
		if err != nil {
			return nil, fmt.Errorf("deploy: a stored manifest does not decode, refusing to collect: %w", err)
		}
		for _, b := range m.Blobs() {
			keep[b.Digest] = true
		}
	}
	return keep, rows.Err()
}

// HoldBlobs runs fn while garbage collection cannot delete blobs: a backup
// holds it from its database snapshot to its last blob, so every blob the
// snapshot names is still there to copy. Uploads and deployments go on
// meanwhile; a collection waits for fn to return.
func (s *Service) HoldBlobs(fn func() error) error {
	s.holds.RLock()
	defer s.holds.RUnlock()
	return fn()
}
