package lockfile

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestShortestPathTie reads a workspace (lockfiles written by npm 11.19.1,
// yarn 1.22.22 and 4.5.3, pnpm 9.15.0) whose root depends on minipass and
// whose package packages/a on lru-cache, both of which need yallist: its
// two shortest paths tie. Which one it got followed the walk's order (the
// root's dependencies first), so the path said minipass; among the
// shortest, the lexically smallest wins, whatever the order.
func TestShortestPathTie(t *testing.T) {
	for _, dir := range []string{"tie-npm", "tie-yarn1", "tie-berry", "tie-pnpm9"} {
		t.Run(dir, func(t *testing.T) {
			got := map[string]string{}
			for _, p := range load(t, filepath.Join("testdata", dir)).Packages {
				got[p.ID()] = strings.Join(p.Path, " > ")
			}
			if want := "lru-cache@6.0.0 > yallist@4.0.0"; got["yallist@4.0.0"] != want {
				t.Errorf("yallist's path %q, want %q (all: %v)", got["yallist@4.0.0"], want, got)
			}
		})
	}
}
