package web_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// deploymentRow is the environment page's table row of deployment id.
func deploymentRow(page string, id int64) string {
	return regexp.MustCompile(`(?s)<tr( class="active")?>\s*<th scope="row">` + strconv.FormatInt(id, 10) + `\b.*?</tr>`).FindString(page)
}

// verificationOf returns deployment id of shop/env as the API has it.
func (f *fixture) verificationOf(env string, id int64) deploy.Deployment {
	f.t.Helper()
	ds, err := f.a.Deploy.Deployments(context.Background(), "shop", env, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	f.t.Fatalf("no deployment %d of shop/%s", id, env)
	return deploy.Deployment{}
}

// TestVerificationOnThePages: while the server verifies an environment's
// active deployment (an hour-long soak here), the overview and the
// environment's page say "verification pending" and since when; the page
// marks a deployment replaced before its verdict "not verified", and one
// whose verification failed without a rollback "failed verification"
// (the overview too). A pipeline run's deployment, which its run
// verifies, has no such mark.
func TestVerificationOnThePages(t *testing.T) {
	f := newFixtureOpts(t, func(o *app.Options) { o.VerifySoak = time.Hour })
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	first := f.deploy("production", "v1.0.0", "first release")
	d := f.verificationOf("production", first)
	if d.Verification != deploy.VerifyPending || d.VerificationAt == nil {
		t.Fatalf("the first deployment during its hour-long verification: %+v", d)
	}
	since := `since <time datetime="` + d.VerificationAt.UTC().Format(time.RFC3339) + `"`

	_, page := b.get("/")
	if row := envRow(page, "shop", "production"); !strings.Contains(row, `<span class="badge warn">verification pending</span>`) ||
		!strings.Contains(row, since) {
		t.Fatalf("the overview's production row during the verification: %q", row)
	}
	_, page = b.get("/ui/envs/shop/production")
	if row := deploymentRow(page, first); !strings.Contains(row, `<span class="badge warn">verification pending</span>`) ||
		!strings.Contains(row, "verification pending "+since) {
		t.Fatalf("the active deployment's row during its verification: %q\n%s", row, page)
	}

	second := f.deploy("production", "v1.1.0", "second release") // replaces the first before its verdict
	if ok, err := f.a.Deploy.RecordVerification(context.Background(), second, deploy.VerifyFailed); !ok || err != nil {
		t.Fatalf("record the second's verification failed: %v, %v", ok, err)
	}
	_, page = b.get("/ui/envs/shop/production")
	if row := deploymentRow(page, first); !strings.Contains(row, "not verified: replaced before a verdict") || strings.Contains(row, "badge") {
		t.Fatalf("the replaced deployment's row: %q", row)
	}
	if row := deploymentRow(page, second); !strings.Contains(row, `<span class="badge bad">failed verification</span>`) ||
		!strings.Contains(row, "failed verification, not rolled back") || strings.Contains(row, "verification pending") {
		t.Fatalf("the row of the active deployment that failed verification: %q", row)
	}
	_, page = b.get("/")
	if row := envRow(page, "shop", "production"); !strings.Contains(row, "failed verification") || strings.Contains(row, "verification pending") {
		t.Fatalf("the overview's production row after the failed verification: %q", row)
	}

	run := f.deploy("staging", "v1.1.0", "pipeline run 1")
	_, page = b.get("/")
	if row := envRow(page, "shop", "staging"); !strings.Contains(row, "v1.1.0") || strings.Contains(row, "verification") {
		t.Fatalf("the overview's staging row with a pipeline run's deployment: %q", row)
	}
	_, page = b.get("/ui/envs/shop/staging")
	if row := deploymentRow(page, run); row == "" || strings.Contains(row, "verification") || strings.Contains(row, "verified") {
		t.Fatalf("a pipeline run's deployment: %q", row)
	}
}
