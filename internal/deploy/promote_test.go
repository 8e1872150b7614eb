package deploy

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// promoting makes f's production promote from staging.
func promoting(t *testing.T, f *fixture) *fixture {
	t.Helper()
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", Locked: true, PromoteFrom: "staging"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// try deploys release (files) to env and returns Finalize's deployment
// and error.
func (f *fixture) try(t *testing.T, env, release string, files map[string]string, msg ...string) (*Deployment, error) {
	t.Helper()
	m, blobs := manifestOf(release, files)
	d, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: env, Actor: "alice", Message: strings.Join(msg, "")})
	return d, err
}

// refused deploys m (its blobs in blobs) to site/production (promote_from:
// staging) and checks that it is refused as a promotion saying why, with a
// hint holding hint, and that production changed nothing.
func (f *fixture) refused(t *testing.T, m *artifact.Manifest, blobs map[backend.Digest][]byte, why, hint string) error {
	t.Helper()
	told := func() int {
		n := 0
		for _, r := range f.seen {
			if r.Environment == "production" {
				n++
			}
		}
		return n
	}
	before, seen := len(history(t, f.svc, "production")), told()
	_, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "production", Actor: "alice"})
	digest, _ := m.Digest()
	what := "artifact " + string(digest)[:len("sha256:")+12]
	if m.Meta.Release != "" {
		what += " (release " + m.Meta.Release + ")"
	}
	want := "environment site/production takes only artifacts that ran on staging (environments.production.promote_from: staging): " +
		what + " " + why
	var ue *usererr.Error
	if !errors.As(err, &ue) || ue.Kind != usererr.Conflict || ue.Message != want || !strings.Contains(ue.Hint, hint) {
		t.Fatalf("deploy to production = %v (hint %q)\nwant the conflict %q, hint with %q", err, usererr.HintOf(err), want, hint)
	}
	if err.Error() != want {
		t.Errorf("the error reads %q, want the message alone", err.Error())
	}
	if after := len(history(t, f.svc, "production")); after != before || told() != seen {
		t.Fatalf("the refused deploy changed production: %d deployments, was %d; %d activations told, was %d", after, before, told(), seen)
	}
	return err
}

// refusedFiles is refused of release (files).
func (f *fixture) refusedFiles(t *testing.T, release string, files map[string]string, why, hint string) error {
	t.Helper()
	m, blobs := manifestOf(release, files)
	return f.refused(t, m, blobs, why, hint)
}

var one = map[string]string{"index.html": "one"}

// TestPromoteFromRefusesWhatDidNotRunThere: production with promote_from:
// staging refuses an artifact that has no deployment on staging, naming
// the environment, the setting, the artifact and its release and what to
// do; the same artifact deployed to staging first is taken, and so is an
// environment that promotes from none.
func TestPromoteFromRefusesWhatDidNotRunThere(t *testing.T) {
	f := promoting(t, newFixture(t))
	env, err := f.svc.Environment(ctx, "site", "production")
	if err != nil || env.PromoteFrom != "staging" {
		t.Fatalf("production = %+v, %v; want it to promote from staging", env, err)
	}
	err = f.refusedFiles(t, "v1", one, "has no deployment on staging", "deploy it to staging first and let it pass verification there")
	if hint := usererr.HintOf(err); !strings.Contains(hint, "'phoenix release VERSION --env staging', then '--env production' deploys what staging ran") {
		t.Errorf("hint %q does not say how a release promotes", hint)
	}

	staged, err := f.try(t, "staging", "v1", one)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.try(t, "production", "v1", one)
	if err != nil || !d.Active || d.Artifact != staged.Artifact {
		t.Fatalf("after staging: %+v, %v", d, err)
	}
	// Staging promotes from nothing: anything goes there.
	if _, err := f.try(t, "staging", "v2", map[string]string{"index.html": "two"}); err != nil {
		t.Fatal(err)
	}
}

// TestPromoteFromLeavesRollbacksAlone: a rollback within production is a
// pointer move to what already ran there: allowed to a deployment made
// before promote_from was set, and to one whose staging deployment failed
// since; a new deployment of that artifact is refused, saying it failed
// on staging.
func TestPromoteFromLeavesRollbacksAlone(t *testing.T) {
	f := newFixture(t)
	before, _ := f.deploy(t, "production", "v0", map[string]string{"index.html": "zero"})
	promoting(t, f)
	f.deploy(t, "staging", "v0.9", map[string]string{"index.html": "nine"})
	staged, _ := f.deploy(t, "staging", "v1", one)
	promoted, _ := f.deploy(t, "production", "v1", one)
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: staged.ID,
		Reason: "health-check/staging", Actor: "ci"}); err != nil {
		t.Fatal(err)
	}
	back, err := f.svc.Rollback(ctx, "site", "production", 0, "bob")
	if err != nil || back.ID != before.ID {
		t.Fatalf("rollback = %+v, %v; want deployment %d, made before promote_from", back, err, before.ID)
	}
	forth, err := f.svc.Rollback(ctx, "site", "production", promoted.ID, "bob")
	if err != nil || forth.ID != promoted.ID {
		t.Fatalf("rollback to %d = %+v, %v", promoted.ID, forth, err)
	}
	f.refusedFiles(t, "v1", one, "failed verification on staging (deployment "+itoa(staged.ID)+": health-check/staging) and was taken back",
		"fix the release and deploy it to staging again")
}

// TestPromoteFromCountsWhatRanOnStaging: a staging deployment counts once
// its verification passed, or, for a pipeline run's (which the server does
// not verify), once made; one pending verification, one replaced before
// its verdict and one that failed it (kept live) do not, and the refusal
// says which.
func TestPromoteFromCountsWhatRanOnStaging(t *testing.T) {
	f := promoting(t, verifying(newFixture(t)))
	pending, _ := f.deploy(t, "staging", "v1", one)
	f.refusedFiles(t, "v1", one, "is still pending verification on staging (deployment "+itoa(pending.ID)+", since "+
		pending.VerificationAt.UTC().Format("2006-01-02 15:04:05 UTC")+")", "wait for its verdict ('phoenix deployments --env staging'")
	if ok, err := f.svc.RecordVerification(ctx, pending.ID, VerifyPassed); !ok || err != nil {
		t.Fatalf("record passed: %v, %v", ok, err)
	}
	if _, err := f.try(t, "production", "v1", one); err != nil {
		t.Fatalf("after staging passed: %v", err)
	}

	two, three := map[string]string{"index.html": "two"}, map[string]string{"index.html": "three"}
	replaced, _ := f.deploy(t, "staging", "v2", two)
	kept, _ := f.deploy(t, "staging", "v3", three)
	f.refusedFiles(t, "v2", two, "was replaced on staging before its verification ended (deployment "+itoa(replaced.ID)+", not verified)",
		"deploy it to staging again")
	if ok, err := f.svc.RecordVerification(ctx, kept.ID, VerifyFailed); !ok || err != nil { // rollback.auto: false
		t.Fatalf("record failed: %v, %v", ok, err)
	}
	f.refusedFiles(t, "v3", three, "failed verification on staging (deployment "+itoa(kept.ID)+", kept live there as rollback.auto is off)",
		"fix the release")

	four := map[string]string{"index.html": "four"}
	if _, err := f.try(t, "staging", "v4", four, "pipeline run 7"); err != nil {
		t.Fatal(err)
	}
	if d, err := f.try(t, "production", "v4", four, "pipeline run 7"); err != nil || !d.Active {
		t.Fatalf("a pipeline run's staging deployment did not count: %+v, %v", d, err)
	}
}

// TestPromoteFromNamesWhatStagingRanInstead: the same files built again
// (another time in the manifest) are another artifact but count once
// staging ran them; while staging's verification of them is pending the
// refusal says so and to wait; another build of the same release is
// named, with the release that deploys what staging ran.
func TestPromoteFromNamesWhatStagingRanInstead(t *testing.T) {
	f := promoting(t, newFixture(t))
	m, blobs := manifestOf("", one)
	m.Meta.Created = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	staged, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := manifestOf("", one)
	again.Meta.Created = m.Meta.Created.Add(time.Minute)
	activated := auditDetails(f, "deploy.activate")
	if d, _, err := f.finalize(t, "site", again, blobs, FinalizeOptions{Environment: "production", Message: "by hand"}); err != nil || !d.Active {
		t.Fatalf("the same files built again, which staging ran: %+v, %v", d, err)
	}
	want := "by hand; promoted from staging: the same files as deployment " + itoa(staged.ID) + " (" + short(staged.Artifact) + "), built at another time"
	if len(*activated) != 1 || (*activated)[0] != want {
		t.Errorf("audited %q, want %q", *activated, want)
	}
	if _, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "production"}); err != nil {
		t.Fatal(err)
	}
	if want := "promoted from staging (deployment " + itoa(staged.ID) + ")"; len(*activated) != 2 || (*activated)[1] != want {
		t.Errorf("audited %q, want %q second", *activated, want)
	}

	v1, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "v1"})
	f.refusedFiles(t, "v1", map[string]string{"index.html": "v1, changed"}, "has no deployment on staging; staging ran release v1 as another artifact, "+short(v1.Artifact)+
		" (deployment "+itoa(v1.ID)+")", "'phoenix release v1 --env production' deploys what staging ran")

	// Built again while staging's verification of the first build runs.
	verifying(f)
	two := map[string]string{"index.html": "two"}
	m, blobs = manifestOf("", two)
	m.Meta.Created = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	pending, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ = manifestOf("", two)
	again.Meta.Created = m.Meta.Created.Add(time.Second)
	f.refused(t, again, blobs, "has no deployment on staging; staging has the same files as another artifact, "+short(pending.Artifact)+
		" (deployment "+itoa(pending.ID)+", pending verification since "+pending.VerificationAt.UTC().Format("2006-01-02 15:04:05 UTC")+
		"), built at another time", "wait for its verdict")
}

// TestPromoteFromIsPerProject: the same artifact on another project's
// staging does not count.
func TestPromoteFromIsPerProject(t *testing.T) {
	f := promoting(t, newFixture(t))
	if err := f.svc.EnsureEnvironment(ctx, "other", EnvSpec{Name: "staging"}); err != nil {
		t.Fatal(err)
	}
	m, blobs := manifestOf("v1", one)
	if _, _, err := f.finalize(t, "other", m, blobs, FinalizeOptions{Environment: "staging"}); err != nil {
		t.Fatal(err)
	}
	f.refused(t, m, blobs, "has no deployment on staging", "deploy it to staging first")
}

// TestPromotionIsCheckedInTheActivationsTransaction: what changes on
// staging between the check before the upload is signed and the
// activation counts: a staging deployment taken back as failed meanwhile
// refuses the activation.
func TestPromotionIsCheckedInTheActivationsTransaction(t *testing.T) {
	f := promoting(t, newFixture(t))
	f.deploy(t, "staging", "v0", map[string]string{"index.html": "zero"})
	staged, _ := f.deploy(t, "staging", "v1", one)
	f.svc.opts.Check = func(ctx context.Context, r Release) error {
		if r.Environment != "production" {
			return nil
		}
		_, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: staged.ID, Reason: "health-check/staging"})
		return err
	}
	f.refusedFiles(t, "v1", one, "failed verification on staging (deployment "+itoa(staged.ID)+": health-check/staging) and was taken back", "")
}

// TestPromotableFindsWhatStagingRanOfARelease: the newest deployment of a
// release on an environment that counts for promotion, with its manifest;
// only one a pipeline run made: a phoenix deploy by hand named after the
// release (newer, and it ran) is not what a release may promote in place
// of its gates and build.
func TestPromotableFindsWhatStagingRanOfARelease(t *testing.T) {
	f := newFixture(t)
	good, _ := f.runDeploy(t, "staging", "v1", one, "7")
	bad, _ := f.runDeploy(t, "staging", "v1", map[string]string{"index.html": "one, rebuilt"}, "8")
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: bad.ID, Reason: "health-check/staging"}); err != nil {
		t.Fatal(err)
	}
	f.deploy(t, "staging", "v1", map[string]string{"index.html": "one, built by hand"})
	d, canon, err := f.svc.Promotable(ctx, "site", "staging", "v1")
	if err != nil || d == nil || d.ID != good.ID || d.Release != "v1" || backend.Sum(canon) != good.Artifact {
		t.Fatalf("Promotable(v1) = %+v, %d bytes, %v; want deployment %d and its manifest", d, len(canon), err, good.ID)
	}
	for _, q := range [][3]string{{"site", "staging", "v2"}, {"site", "production", "v1"}, {"other", "staging", "v1"}, {"site", "staging", ""}} {
		if d, canon, err := f.svc.Promotable(ctx, q[0], q[1], q[2]); d != nil || canon != nil || err != nil {
			t.Errorf("Promotable(%v) = %+v, %v; want none", q, d, err)
		}
	}
}

// TestPromoteFromIsDeclaredWithTheEnvironment: promote_from is checked
// when declared, stored, audited and cleared like the other settings.
func TestPromoteFromIsDeclaredWithTheEnvironment(t *testing.T) {
	f := newFixture(t)
	saved := auditDetails(f, "env.save")
	for _, from := range []string{"production", "Staging!"} {
		err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", PromoteFrom: from})
		if usererr.KindOf(err) != usererr.Invalid {
			t.Errorf("promote_from %q: %v", from, err)
		}
	}
	promoting(t, f)
	if details := *saved; len(details) != 1 || !strings.HasSuffix(details[0], ", promote from staging") {
		t.Errorf("env.save details %q", details)
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", Locked: true}); err != nil {
		t.Fatal(err)
	}
	if env, _ := f.svc.Environment(ctx, "site", "production"); env.PromoteFrom != "" {
		t.Fatalf("promote_from not cleared: %+v", env)
	}
	if _, err := f.try(t, "production", "v1", one); err != nil {
		t.Fatalf("with promote_from cleared: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestKeepFailedDoesNotCountForPromotion: a release run's staging
// deployment that failed its health check under rollback.auto: false stays
// live, recorded as failed verification (audited), and production refuses
// its artifact; one taken back already keeps its record.
func TestKeepFailedDoesNotCountForPromotion(t *testing.T) {
	f := promoting(t, newFixture(t))
	failed := auditDetails(f, "deploy.fail")
	kept, err := f.try(t, "staging", "v1", one, "pipeline run 3")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.KeepFailed(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: kept.ID, Reason: "health-check/staging"}); err != nil {
		t.Fatal(err)
	}
	d := history(t, f.svc, "staging")[kept.ID]
	if !d.Active || d.Failure != "" || d.Verification != VerifyFailed || d.VerificationAt == nil {
		t.Fatalf("after KeepFailed: %+v", d)
	}
	if want := "deployment " + itoa(kept.ID) + " failed verification (health-check/staging); kept live: rollback.auto is off"; len(*failed) != 1 || (*failed)[0] != want {
		t.Errorf("audited %q, want %q", *failed, want)
	}
	f.refusedFiles(t, "v1", one, "failed verification on staging (deployment "+itoa(kept.ID)+", kept live there as rollback.auto is off)", "fix the release")

	if err := f.svc.KeepFailed(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: 99}); usererr.KindOf(err) != usererr.NotFound {
		t.Errorf("KeepFailed of no deployment: %v", err)
	}
	f.deploy(t, "staging", "v0", map[string]string{"index.html": "zero"})
	back, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: back.ID, Reason: "health-check/staging"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.KeepFailed(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: back.ID, Reason: "later"}); err != nil {
		t.Fatal(err)
	}
	if d := history(t, f.svc, "staging")[back.ID]; d.Failure != "health-check/staging" || d.Verification != "" || len(*failed) != 2 {
		t.Errorf("a deployment taken back already: %+v, audited %q", d, *failed)
	}
}

// TestARunsDeploymentCountsOnceItsHealthChecksPass: a pipeline run's
// deployment that the run health-checks (RunChecks) waits for them
// (VerifyByRun): production refuses its artifact, naming the run, until
// RunPassed records the run's verdict, and not for another run or while
// replaced; a run that checks none of its environment leaves no state
// (counted once made, as before). A run's deployment taken back, or kept
// failed under rollback.auto: false, failed verification.
func TestARunsDeploymentCountsOnceItsHealthChecksPass(t *testing.T) {
	f := promoting(t, newFixture(t))
	byRun := func(run, release string, files map[string]string, checks bool) *Deployment {
		t.Helper()
		m, blobs := manifestOf(release, files)
		d, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "staging", Actor: "alice",
			Message: "pipeline run " + run, Run: run, RunChecks: checks})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := byRun("7", "v1", one, true)
	if d.Verification != VerifyByRun || d.Run != "7" || history(t, f.svc, "staging")[d.ID].Verification != VerifyByRun {
		t.Fatalf("a run's deployment it health-checks: %+v", d)
	}
	f.refusedFiles(t, "v1", one, "is still being health-checked on staging by pipeline run 7 (deployment "+itoa(d.ID)+")",
		"wait for the run's health checks of staging ('phoenix logs 7 -f')")
	for _, wrong := range []struct{ env, run string }{{"production", "7"}, {"staging", "8"}} {
		if ok, err := f.svc.RunPassed(ctx, "site", wrong.env, d.ID, wrong.run); ok || err != nil {
			t.Fatalf("RunPassed on %s by run %s: %v, %v", wrong.env, wrong.run, ok, err)
		}
	}
	if ok, err := f.svc.RunPassed(ctx, "site", "staging", d.ID, "7"); !ok || err != nil {
		t.Fatalf("RunPassed: %v, %v", ok, err)
	}
	if _, err := f.try(t, "production", "v1", one); err != nil {
		t.Fatalf("production after the run's health checks passed on staging: %v", err)
	}

	replaced := byRun("9", "v2", map[string]string{"index.html": "two"}, true)
	f.try(t, "staging", "v3", map[string]string{"index.html": "three"})
	if ok, _ := f.svc.RunPassed(ctx, "site", "staging", replaced.ID, "9"); ok {
		t.Fatal("RunPassed recorded a verdict on a deployment replaced before it")
	}
	if got := history(t, f.svc, "staging")[replaced.ID]; got.Verification != VerifySuperseded {
		t.Fatalf("a run's deployment replaced before its health checks: %+v", got)
	}

	unchecked := byRun("10", "v4", map[string]string{"index.html": "four"}, false)
	if unchecked.Verification != "" {
		t.Fatalf("a run's deployment it does not health-check: %+v", unchecked)
	}
	if _, err := f.try(t, "production", "v4", map[string]string{"index.html": "four"}); err != nil {
		t.Fatalf("production, the run checks none of staging: %v", err)
	}

	taken := byRun("11", "v5", map[string]string{"index.html": "five"}, true)
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: taken.ID, Reason: "health-check/staging"}); err != nil {
		t.Fatal(err)
	}
	kept := byRun("12", "v6", map[string]string{"index.html": "six"}, true)
	if err := f.svc.KeepFailed(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: kept.ID, Reason: "health-check/staging"}); err != nil {
		t.Fatal(err)
	}
	h := history(t, f.svc, "staging")
	if h[taken.ID].Verification != VerifyFailed || h[taken.ID].Failure == "" || h[kept.ID].Verification != VerifyFailed || !h[kept.ID].Active {
		t.Fatalf("taken back: %+v; kept failed: %+v", h[taken.ID], h[kept.ID])
	}
}
