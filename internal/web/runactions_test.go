package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// TestRunPageOffersOnlyWhatTheUserMayDo: at production's approval gate
// the releaser is told that someone else must approve (no Approve button,
// which the API refuses them, but Reject: withdrawing it); an approver of
// staging only gets neither; a user who may deploy to staging but only
// read production gets no Cancel, since cancelling needs deploy on every
// environment the run acts on.
func TestRunPageOffersOnlyWhatTheUserMayDo(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUserGrants("stageapprover", "stageapprover-password-1", auth.Grant{Role: auth.RoleApprover, Environment: "staging"},
		auth.Grant{Role: auth.RoleViewer})
	f.addUserGrants("stager", "stager-password-1", auth.Grant{Role: auth.RoleContributor, Environment: "staging"},
		auth.Grant{Role: auth.RoleViewer, Environment: "production"})
	id := f.releaseWith(`project: {name: shop}
environments: {staging: {}, production: {protection: {approvals: 1}}}
pipeline:
  stages:
    - name: try
      environment: staging
      steps: [{name: hello, run: "echo staged"}]
    - name: ship
      environment: production
      needs: [try]
      steps: [{name: hello, run: "echo shipped"}]
`, "v4.1.0")
	f.waitRun(id, pipeline.Waiting)
	path := "/ui/runs/" + strconv.FormatInt(id, 10)
	for _, c := range []struct {
		user, password string
		want, not      []string
	}{
		{"admin", adminPW, []string{"You released this run", ">Reject</button>", "Cancel run"}, []string{"/approve"}},
		{"stageapprover", "stageapprover-password-1", nil, []string{"/approve", "/reject", "Cancel run"}},
		{"stager", "stager-password-1", nil, []string{"/approve", "/reject", "Cancel run"}},
	} {
		b := f.browser()
		b.mustLogin(c.user, c.password)
		_, page := b.get(path)
		for _, w := range c.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", c.user, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(page, n) {
				t.Errorf("%s: the page offers %q", c.user, n)
			}
		}
	}
}
