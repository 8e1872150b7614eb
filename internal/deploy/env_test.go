package deploy

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestUnknownEnvironmentHintNamesACommandThatExists: the hint lists
// environments with 'phoenix projects' ('phoenix environments' does not
// exist).
func TestUnknownEnvironmentHintNamesACommandThatExists(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Rollback(ctx, "site", "nope", 0, "bob")
	if usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("rollback of an unknown environment: %v", err)
	}
	if h := usererr.HintOf(err); !strings.Contains(h, "'phoenix projects'") || strings.Contains(h, "phoenix environments") {
		t.Fatalf("hint %q", h)
	}
}
