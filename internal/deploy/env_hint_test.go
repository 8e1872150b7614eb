package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestMissingEnvironmentSuggestsOne: --env prod answered "no environment
// prod" with a hint that a deploy would create it (which it does only when
// phoenix.yaml declares it) and no "did you mean", where phoenix validate
// and alerts silence suggest production. The hint names the closest
// environment and lists the project's.
func TestMissingEnvironmentSuggestsOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, e := range []string{"staging", "production"} {
		if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ project, env, hint string }{
		{"site", "prod", "did you mean production? its environments: gated, production, staging; an environment exists once a deploy or release has gone to it, with phoenix.yaml declaring it"},
		{"site", "stagng", "did you mean staging? its environments: gated, production, staging;"},
		{"site", "qa", "its environments: gated, production, staging;"},
		{"nosuch", "prod", "list them with 'phoenix projects'; an environment exists"},
	} {
		_, err := f.svc.Environment(ctx, c.project, c.env)
		if usererr.KindOf(err) != usererr.NotFound {
			t.Fatalf("%s/%s: %v, want not found", c.project, c.env, err)
		}
		if h := usererr.HintOf(err); !strings.HasPrefix(h, c.hint) {
			t.Errorf("%s/%s: hint %q, want it to start %q", c.project, c.env, h, c.hint)
		}
	}
}
