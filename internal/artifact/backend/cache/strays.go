package cache

import (
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// StrayAge is how long listings must have seen a local file without a
// remote copy before List names it (and garbage collection deletes it). The
// CLI and the pipeline stage a release's blobs into the local store before
// they upload them; such a blob is in no manifest yet, and a collection
// running meanwhile must not take it away.
const StrayAge = time.Hour

// agedStrays records the local-only blobs of this listing, forgets those
// gone since the last one, and returns the ones first seen StrayAge ago or
// earlier. What it remembers is in memory: a restart starts the wait again,
// which only delays a deletion.
func (s *Store) agedStrays(local []backend.Digest) []backend.Digest {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[backend.Digest]time.Time, len(local))
	var old []backend.Digest
	for _, d := range local {
		first, ok := s.strays[d]
		if !ok {
			first = now
		}
		next[d] = first
		if now.Sub(first) >= StrayAge {
			old = append(old, d)
		}
	}
	s.strays = next
	return old
}
