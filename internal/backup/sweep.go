package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// sweep removes the temporary files and directories that interrupted
// operations left in the repository. The caller holds the lock
// exclusively, so no operation that could still be using them runs.
func (r *Repo) sweep(ctx context.Context) error {
	names, err := readDirNames(r.dir)
	if err != nil {
		return fmt.Errorf("sweep %s: %w", r.dir, err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(r.dir, n)); err != nil {
				return fmt.Errorf("sweep: %w", err)
			}
		}
	}
	for _, s := range []*local.Store{r.objects, r.snapshots} {
		if _, err := s.Sweep(ctx, 0); err != nil {
			return err
		}
	}
	return nil
}

// sweepIfAlone sweeps when no other operation holds the repository, in
// this process or another. A backup that was killed (the server stopped
// with SIGKILL, the machine lost power) leaves what it had stored so far as
// temporary files, as much as the data dir's new contents, and its
// database copy; no later backup uses them, and Prune, which also sweeps,
// runs only once retention forgets a snapshot: months later by default, or
// never on a disk they fill. Best effort: a repository in use is swept by
// a later backup, and what cannot be removed is left to Prune, which says
// why.
func (r *Repo) sweepIfAlone(ctx context.Context) {
	done, err := r.begin(true)
	if err != nil {
		return
	}
	defer done()
	_ = r.sweep(ctx)
}
