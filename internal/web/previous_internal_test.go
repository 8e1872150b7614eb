package web

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestPreviousOnlyFromThePageOfTheActive: the rollback button names the
// deployment it goes to only on a page that lists the active one; on a
// later page the newest there is not it (deployment 4, on the page
// before, is), though the page still has older ones to offer.
func TestPreviousOnlyFromThePageOfTheActive(t *testing.T) {
	deps := func(ids ...int64) []deploy.Deployment {
		out := []deploy.Deployment{}
		for _, id := range ids {
			out = append(out, deploy.Deployment{ID: id})
		}
		return out
	}
	failed := deps(5, 4, 3)
	failed[1].Failure = "failed verification"
	// 4 replaced a second after going live, never verified (an empty
	// site in a user's report); 3 passed: a rollback goes to 3, and so
	// does the button.
	superseded := deps(5, 4, 3, 2)
	superseded[1].Verification = deploy.VerifySuperseded
	superseded[2].Verification = deploy.VerifyPassed
	superseded[3].Verification = deploy.VerifyPassed
	for _, c := range []struct {
		name   string
		page   []deploy.Deployment
		active int64
		prev   int64
		older  bool
	}{
		{"first page", deps(5, 4), 5, 4, true},
		{"second page", deps(3, 2), 5, 0, true},
		{"a failed one skipped", failed, 5, 3, true},
		{"the newest that passed", superseded, 5, 3, true},
		{"the oldest active", deps(2, 1), 1, 0, false},
		{"newer than the active only", deps(9, 8), 5, 0, false},
	} {
		prev, older := previousOf(c.page, c.active)
		if prev != c.prev || older != c.older {
			t.Errorf("%s: previousOf = %d, %v; want %d, %v", c.name, prev, older, c.prev, c.older)
		}
	}
}
