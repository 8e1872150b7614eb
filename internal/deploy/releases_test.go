package deploy

import (
	"maps"
	"slices"
	"testing"
)

// TestDeployedReleasesFollowRetention: the releases a retained deployment
// references, and no longer one retention dropped (Keep is 3 here).
func TestDeployedReleasesFollowRetention(t *testing.T) {
	f := newFixture(t)
	for _, r := range []string{"v1", "v2", "v3", "v4"} {
		f.deploy(t, "production", r, map[string]string{"index.html": r})
	}
	got, err := f.svc.DeployedReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs := slices.Sorted(maps.Keys(got["site"])); !slices.Equal(rs, []string{"v1", "v2", "v3", "v4"}) || len(got) != 1 {
		t.Fatalf("deployed releases %v", got)
	}
	if _, err := f.svc.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.DeployedReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs := slices.Sorted(maps.Keys(got["site"])); !slices.Equal(rs, []string{"v2", "v3", "v4"}) {
		t.Fatalf("after retention: %v", rs)
	}
}
