package deploy

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestUnknownEnvironmentHintNamesACommandThatExists: the hint lists the
// project's environments (with 'phoenix projects' when it has none,
// TestMissingEnvironmentSuggestsOne), never 'phoenix environments', which
// does not exist.
func TestUnknownEnvironmentHintNamesACommandThatExists(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Rollback(ctx, "site", "nope", 0, "bob")
	if usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("rollback of an unknown environment: %v", err)
	}
	if h := usererr.HintOf(err); !strings.Contains(h, "its environments: gated, production, staging;") || strings.Contains(h, "phoenix environments") {
		t.Fatalf("hint %q", h)
	}
}
