package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// CreateOptions says what Create backs up and how.
type CreateOptions struct {
	// DataDir is the Phoenix data dir to back up.
	DataDir string
	// SnapshotDB writes a consistent copy of the live database to dst (the
	// app passes SQLite's "VACUUM INTO"). nil: state.db is copied as a plain
	// file, which is only consistent while the server is stopped; Create
	// then refuses a data dir whose state.db-wal is not empty.
	SnapshotDB func(ctx context.Context, dst string) error
	// DBFile is the name the copy SnapshotDB writes is kept under in the
	// snapshot (default state.db; state.pgdump for a PostgreSQL dump).
	DBFile string
	// Host and Version are recorded in the snapshot; Host defaults to the
	// machine's host name.
	Host, Version string
	// Server is the identity of the server taking the snapshot, recorded
	// in it (Snapshot.Server).
	Server string
	// Now returns the snapshot's time; default time.Now.
	Now func() time.Time
	// Progress is called with the plaintext bytes done so far and the
	// total; may be nil.
	Progress func(done, total int64)
}

// Create backs up o.DataDir as a new snapshot and returns it. Files whose
// content an earlier snapshot already holds are not stored again. The
// snapshot is written last: a Create that fails or is cancelled leaves only
// unreferenced objects behind, which Prune removes. One that was killed
// leaves its unfinished objects as temporary files, which the next Create
// removes first. A content-addressed blob whose bytes do not hash to its
// name is not stored; the snapshot lists the others and names it in
// Snapshot.Corrupt, for the caller to report.
func (r *Repo) Create(ctx context.Context, o CreateOptions) (*Snapshot, error) {
	r.sweepIfAlone(ctx)
	// Shared: adding objects and a snapshot disturbs no reader and no other
	// Create (objects are content-addressed); only Forget and Prune, which
	// delete, need the repository alone.
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := r.create(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", o.DataDir, err)
	}
	return s, nil
}

func (r *Repo) create(ctx context.Context, o CreateOptions) (*Snapshot, error) {
	root, err := dataRoot(o)
	if err != nil {
		return nil, err
	}
	// The database first, the files after: every blob the copied database
	// names was stored before it (uploads precede their deployments) and
	// is still there during the walk (the caller holds garbage collection
	// off), while blobs added after the copy are merely extra. The other
	// order could miss the blobs of a deployment made in between.
	var db *source
	if o.SnapshotDB != nil {
		dir, src, err := r.snapshotDB(ctx, o.SnapshotDB, cmp.Or(o.DBFile, dbFile), root)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		db = &src
	}
	files, err := walk(ctx, root, r.dir, db != nil)
	if err != nil {
		return nil, err
	}
	if db != nil {
		files = append(files, *db)
	}
	slices.SortFunc(files, func(a, b source) int { return cmp.Compare(a.rel, b.rel) })
	c, err := r.newCreation(ctx, o.Progress, files)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, files, snapshotHeader(o))
}

// dataRoot resolves the data dir and, when the database is copied as a
// plain file, checks that no committed data waits in its write-ahead log.
func dataRoot(o CreateOptions) (string, error) {
	if o.DataDir == "" {
		return "", errors.New("no data dir given")
	}
	root, err := filepath.EvalSymlinks(o.DataDir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", o.DataDir)
	}
	if o.SnapshotDB == nil {
		if fi, err := os.Stat(filepath.Join(root, dbFile+"-wal")); err == nil && fi.Size() > 0 {
			return "", fmt.Errorf("%s-wal is not empty: the server is running or did not stop cleanly; back up through the server, or start and stop it once", dbFile)
		}
	}
	return root, nil
}

// snapshotDB has fn write the database copy into a temporary directory in
// the repository and returns the directory (for removal) and the copy.
func (r *Repo) snapshotDB(ctx context.Context, fn func(context.Context, string) error, name, root string) (string, source, error) {
	dir, err := os.MkdirTemp(r.dir, tmpPrefix+"db-*")
	if err != nil {
		return "", source{}, err
	}
	dst := filepath.Join(dir, name)
	if err := fn(ctx, dst); err != nil {
		os.RemoveAll(dir)
		return "", source{}, fmt.Errorf("copy the database: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		os.RemoveAll(dir)
		return "", source{}, fmt.Errorf("copy the database: %w", err)
	}
	mode := os.FileMode(0o600)
	if live, err := os.Stat(filepath.Join(root, dbFile)); err == nil {
		mode = live.Mode().Perm()
	}
	return dir, source{rel: name, abs: dst, mode: mode, size: fi.Size()}, nil
}

// snapshotHeader is the snapshot's metadata, before the files.
func snapshotHeader(o CreateOptions) *Snapshot {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	host := o.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	return &Snapshot{Time: now().UTC(), Host: host, Server: o.Server, Version: o.Version}
}

// objectSet lists the objects in the repository.
func (r *Repo) objectSet(ctx context.Context) (map[backend.Digest]bool, error) {
	set := map[backend.Digest]bool{}
	err := r.objects.List(ctx, func(d backend.Digest) error {
		set[d] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return set, nil
}
