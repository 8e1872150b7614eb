package report

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestRollForwardFailsNothing: deploy 1, 2, 3, roll back to 2 (3
// failed), roll forward to 3 ('phoenix rollback --to 3'): 2 did not
// fail; only 3 counts, so the change failure rate is one in three, not two.
func TestRollForwardFailsNothing(t *testing.T) {
	act := func(action string, id int64) deploy.Activation {
		return deploy.Activation{Project: "shop", Environment: "production", Action: action, Deployment: id}
	}
	got := rolledBack([]deploy.Activation{act("deploy", 1), act("deploy", 2), act("deploy", 3),
		act("rollback", 2), act("rollback", 3), act("deploy", 4), act("rollback", 1)})
	if len(got) != 2 || !got[3] || !got[4] {
		t.Fatalf("failed deployments %v, want 3 (rolled back to 2) and 4 (rolled back to 1)", got)
	}
}
