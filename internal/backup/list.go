package backup

import "context"

// List returns a summary of every snapshot, newest first. A snapshot that
// cannot be read fails the listing, naming it.
func (r *Repo) List(ctx context.Context) ([]Summary, error) {
	done, err := r.begin(false)
	if err != nil {
		return nil, err
	}
	defer done()
	all, err := r.loadAll(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(all))
	for i, s := range all {
		out[i] = s.Summary()
	}
	return out, nil
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
