package cache

import (
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// StrayAge is how long a local file without a remote copy must have gone
// unchanged before List names it (and garbage collection deletes it). The
// CLI and the pipeline stage a release's blobs into the local store before
// they upload them; such a blob is in no manifest yet, and a collection
// running meanwhile must not take it away. It is the local store's grace
// period, read from the file's status-change time, so it holds across
// restarts and a short-lived in-process server collects what is old enough.
const StrayAge = local.Grace

// agedStrays returns the local-only blobs past their grace period.
func (s *Store) agedStrays(strays []backend.Digest) []backend.Digest {
	var old []backend.Digest
	for _, d := range strays {
		if s.local.Settled(d) {
			old = append(old, d)
		}
	}
	return old
}
