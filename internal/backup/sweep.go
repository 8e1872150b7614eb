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
