package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/store"
)

// TestDeployToProductionNeedsStaging: with promote_from: staging (which
// phoenix deploy sends with the environments), 'phoenix deploy --env
// production' of a site staging never ran is refused with what, why and
// how, and the refusal is in the audit log; deployed to staging it is
// still refused while staging's verification is pending (no server runs
// to verify it), and taken once it passed. SOURCE_DATE_EPOCH makes the
// folder give the same artifact each time.
func TestDeployToProductionNeedsStaging(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1764201600")
	data := t.TempDir()
	cfg, site := siteProject(t)
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n  production: {promote_from: staging}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deployTo := func(env string) (string, string, int) {
		return runVault(t, "", "deploy", site, "--env", env, "--release", "v1.0.0", "-c", cfg, "--data", data)
	}
	const refused = `^error: environment shop/production takes only artifacts that ran on staging \(environments\.production\.promote_from: staging\): ` +
		`artifact (sha256:[0-9a-f]{12}) \(release v1\.0\.0\) `
	out, errs, code := deployTo("production")
	m := regexp.MustCompile(refused + `has no deployment on staging\n` +
		`hint: deploy it to staging first and let it pass verification there \('phoenix deploy DIR --env staging'\), ` +
		`or release it there first: 'phoenix release VERSION --env staging', then '--env production' deploys what staging ran\n$`).FindStringSubmatch(errs)
	if code != 1 || m == nil || out != "" {
		t.Fatalf("deploy to production first: exit %d\n%s%s", code, out, errs)
	}
	digest := m[1]
	var failed bool
	for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "", "audit", "log", "-o", "json", "--data", data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		failed = failed || (r.Action == "deploy.activate" && r.Outcome == audit.Failed && strings.HasPrefix(r.Detail, "HTTP 409: "))
	}
	if !failed {
		t.Error("the refusal is not in the audit log")
	}

	if out, errs, code = deployTo("staging"); code != 0 || !strings.HasPrefix(out, "deployed "+digest) {
		t.Fatalf("deploy to staging: exit %d\n%s%s", code, out, errs)
	}
	_, errs, code = deployTo("production")
	if !regexp.MustCompile(refused+`is still pending verification on staging \(deployment 1, since [0-9: -]+ UTC\)\n`+
		`hint: wait for its verdict \('phoenix deployments --env staging'; a running server verifies it\) and deploy again\n$`).MatchString(errs) || code != 1 {
		t.Fatalf("deploy to production while staging's verification is pending: exit %d\n%s", code, errs)
	}

	passed(t, data, 1) // what a running server does once the checks pass
	if out, errs, code = deployTo("production"); code != 0 || !strings.HasPrefix(out, "deployed "+digest) || !strings.Contains(out, "shop/production") {
		t.Fatalf("deploy to production once staging passed: exit %d\n%s%s", code, out, errs)
	}
}

// passed records that deployment id in data dir's database passed
// verification.
func passed(t *testing.T, data string, id int64) {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := deploy.New(deploy.Options{DB: db}).RecordVerification(context.Background(), id, deploy.VerifyPassed); !ok || err != nil {
		t.Fatalf("record deployment %d passed: %v, %v", id, ok, err)
	}
}
