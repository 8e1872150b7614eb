package backup

import "context"

// List returns a summary of every snapshot, newest first, reading only the
// head of each (the fields before its file list). When some heads are
// damaged it returns the others with a *DamagedError naming them.
func (r *Repo) List(ctx context.Context) ([]Summary, error) {
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	list, damaged, err := r.heads(ctx)
	if err == nil && len(damaged) > 0 {
		err = &DamagedError{IDs: damaged}
	}
	return list, err
}

// Load returns the snapshot named by idOrPrefix: a full id, a unique prefix
// of at least 4 hex digits, or "latest" for the newest.
func (r *Repo) Load(ctx context.Context, idOrPrefix string) (*Snapshot, error) {
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	return r.resolve(ctx, idOrPrefix)
}

// NewestOf returns the newest of list (newest first, as List returns it)
// that server took; server "" matches the snapshots that record none.
func NewestOf(list []Summary, server string) (Summary, bool) {
	for _, s := range list {
		if !s.Damaged && s.Server == server {
			return s, true
		}
	}
	return Summary{}, false
}
