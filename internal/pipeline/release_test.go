package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type notes struct {
	mu sync.Mutex
	ns []action.Notification
}

func (n *notes) Notify(_ context.Context, x action.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ns = append(n.ns, x)
	return nil
}

func (n *notes) find(event string) *action.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.ns {
		if n.ns[i].Event == event {
			return &n.ns[i]
		}
	}
	return nil
}

const seedYAML = `
project: {name: site}
release:
  changelog: CHANGELOG.md
build:
  package_manager: npm
  install: "true"
  command: mkdir -p dist && echo "<h1>Phoenix example $PHOENIX_RELEASE</h1>" > dist/index.html
  output: dist
tests:
  unit:
    command: |
      mkdir -p reports
      echo '<testsuite><testcase name="a"/><testcase name="b"/></testsuite>' > reports/junit.xml
      printf 'SF:a.js\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n' > lcov.info
    junit: reports/junit.xml
    coverage: lcov.info
  coverage: {min: 60}
environments:
  staging:
    load_test: {paths: [/], rate: 50, duration: 1s, thresholds: {p95: 5s, error_rate: 1%}}
  production:
    protection: {approvals: 1, approvers: [admin]}
    health_checks:
      - name: home
        url: /
        conditions: ["[STATUS] == 200", "[BODY] == pat(*Phoenix*)"]
`

// TestSeedReleaseEndToEnd releases a project through the default pipeline
// with the real deployments domain: checks, build, tests with reports,
// artifact, approval, deploy to staging and production, health checks;
// then a release whose health check fails is rolled back and alerted.
func TestSeedReleaseEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var healthy atomic.Bool
	healthy.Store(true)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("<h1>Phoenix example</h1>"))
	}))
	defer site.Close()
	sd := startSeed(t, dir, site.URL)
	f, proj, n, dsvc := sd.f, sd.proj, sd.notes, sd.dsvc

	r := f.release(proj, "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	if err := f.svc.Approve(context.Background(), r.ID, "production", "bob", "ok"); err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded {
		for _, s := range d.Steps {
			t.Logf("%s: %s %s", s.ID, s.Status, s.Error)
		}
		t.Fatalf("release: %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
	for step, status := range map[string]string{"check-audit": Succeeded, "check-licenses": Succeeded, "check-secrets": Succeeded,
		"check-sbom": Succeeded, "test-unit": Succeeded, "test-report": Succeeded, "deploy/staging": Succeeded,
		"load-test/staging": Succeeded, "approval/production": Succeeded, "deploy/production": Succeeded, "health-check/production": Succeeded,
		"notify": Succeeded, "rollback": Skipped, "alert": Skipped} {
		if got := stepOf(d, step); got.Status != status {
			t.Errorf("%s: %s (%s), want %s", step, got.Status, got.Error, status)
		}
	}
	if out := stepOf(d, "load-test/staging").Outputs; out["requests"] != "50" || out["error_rate"] != "0.00" {
		t.Errorf("staging's load test: %s, outputs %v", stepOf(d, "load-test/staging").Status, out)
	}
	if out := stepOf(d, "test-report").Outputs; out["tests"] != "2" || out["coverage"] != "66.7" {
		t.Errorf("test report outputs %v", out)
	}
	if s := n.find("release.succeeded"); s == nil || s.Message != "site v1.0.0 is live on staging, production" || n.find("approval.requested") == nil {
		t.Errorf("notifications %+v", n.ns)
	}
	first := activeOf(t, dsvc, "production")

	// The same version again is refused before it is queued: no run, so
	// no release.failed paging the team for a tag given by mistake.
	if _, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0", Actor: "alice"}); usererr.KindOf(err) != usererr.Invalid ||
		!strings.Contains(err.Error(), "not greater") || !strings.Contains(usererr.HintOf(err), "nothing was queued") {
		t.Errorf("same version released again: %v", err)
	} else if a := n.find("release.failed"); a != nil {
		t.Errorf("a refused tag announced: %+v", a)
	}
	n.ns = nil

	healthy.Store(false)
	r2 := f.release(proj, "1.1.0", "production")
	f.waitStatus(r2.ID, Waiting)
	f.svc.Approve(context.Background(), r2.ID, "", "carol", "")
	d2 := f.wait(r2.ID)
	if d2.Status != Failed || stepOf(d2, "rollback").Status != Succeeded || stepOf(d2, "alert").Status != Succeeded {
		t.Fatalf("failed release: %s, rollback %s (%s), alert %s", d2.Status, stepOf(d2, "rollback").Status,
			stepOf(d2, "rollback").Error, stepOf(d2, "alert").Status)
	}
	if got := activeOf(t, dsvc, "production"); got != first {
		t.Errorf("production serves deployment %d after rollback, want %d", got, first)
	}
	// The deployment the failed release made is recorded as failed, with
	// the step that failed, so no later rollback returns to it.
	hist, err := dsvc.Deployments(context.Background(), "site", "production", 0)
	if err != nil || len(hist) != 2 || hist[0].Status != deploy.StatusFailed || hist[0].Failure != "health-check/production" {
		t.Errorf("production's history after the failed release: %+v, %v", hist, err)
	}
	// The alert says in words what failed and how, with the failed step's
	// own output (the health check's verdict).
	if a := n.find("release.failed"); a == nil || a.Severity != 0 || a.Message != "site 1.1.0 failed at health-check/production" ||
		!strings.Contains(a.Text, "health-check/production: ") || !strings.Contains(a.Text, "503") {
		t.Errorf("critical alert: %+v", n.ns)
	}
}

// seed is the seed project (seedYAML) released on the real deployments
// domain: the fixture, the project folder, the service's options, the
// notifications sent and the deployments domain.
type seed struct {
	f     *fixture
	proj  string
	edit  func(*Options)
	notes *notes
	dsvc  *deploy.Service
}

// startSeed starts a service in dir deploying through the deployments
// domain, whose health checks and load tests go to siteURL, and writes
// the seed project.
func startSeed(t *testing.T, dir, siteURL string) *seed {
	t.Helper()
	db, blobs, dsvc := deployService(t, dir)
	sd := &seed{f: &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}, notes: &notes{}, dsvc: dsvc}
	sd.edit = func(o *Options) {
		o.Deps = action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs, Notifier: sd.notes,
			AdvisoryDir: filepath.Join(dir, "no-advisories"), EnvURL: func(p, e string) string { return siteURL + "/" },
			HealthInterval: 5 * time.Millisecond}
	}
	sd.f.svc = sd.f.start(sd.edit)
	sd.proj = sd.f.project(seedYAML)
	os.WriteFile(filepath.Join(sd.proj, "package.json"), []byte(`{"name":"site","version":"1.0.0","license":"MIT","scripts":{"build":"echo"}}`), 0o644)
	os.WriteFile(filepath.Join(sd.proj, "package-lock.json"), []byte(`{"name":"site","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"site","version":"1.0.0","license":"MIT"}}}`), 0o644)
	os.WriteFile(filepath.Join(sd.proj, "CHANGELOG.md"), []byte("# Changes\n\n## v1.0.0\n- first\n## 1.1.0\n- second\n"), 0o644)
	return sd
}

func activeOf(t *testing.T, d *deploy.Service, env string) int64 {
	t.Helper()
	rs, err := d.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Environment == env {
			return r.Deployment.ID
		}
	}
	t.Fatalf("nothing active on %s", env)
	return 0
}

type undelivered struct{}

func (undelivered) Notify(context.Context, action.Notification) error {
	return &action.NotDelivered{Reason: "phoenix.yaml has no notifications.channels"}
}

// TestApprovalRequestNotAnnouncedIsLogged: when no channel takes the
// approval request, the run's log says so, so nobody waits for a Teams
// message that will not come.
func TestApprovalRequestNotAnnouncedIsLogged(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Deps.Notifier = undelivered{} })
	proj := f.project("project: {name: vip}\nenvironments:\n  production: {protection: {approvals: 1}}\n" +
		"pipeline:\n  stages:\n    - name: ship\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n")
	r := f.release(proj, "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	// The run is waiting before its request is logged and sent; it ends
	// only once both are done.
	f.svc.Cancel(context.Background(), r.ID, "admin")
	f.wait(r.ID)
	if log := f.log(r.ID, ""); !strings.Contains(log, "[phoenix] the approval request was not announced: not delivered: phoenix.yaml has no notifications.channels") ||
		!strings.Contains(log, "waiting for 1 approval(s) to deploy v1.0.0 to production, from any user allowed to approve (the approver or admin role); the user who released it (alice) cannot approve it") {
		t.Fatalf("log:\n%s", log)
	}
}

// TestApprovalRequestSaysHowToApprove: the gate's log and the
// approval.requested message name the command that approves the run (and
// the one that rejects it), so an approver reading a Teams card or a
// releaser watching phoenix release is not left to find it.
func TestApprovalRequestSaysHowToApprove(t *testing.T) {
	n := &notes{}
	f := newFixture(t, func(o *Options) { o.Deps.Notifier = n })
	proj := f.project("project: {name: vip}\nenvironments:\n  production: {protection: {approvals: 1}}\n" +
		"pipeline:\n  stages:\n    - name: ship\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n")
	r := f.release(proj, "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	f.svc.Cancel(context.Background(), r.ID, "admin") // it ends once the request is logged and sent
	f.wait(r.ID)
	want := fmt.Sprintf("approve with phoenix approve %d, or reject with phoenix approve %d --reject --reason TEXT", r.ID, r.ID)
	if log := f.log(r.ID, ""); !strings.Contains(log, "[phoenix] "+want) {
		t.Errorf("the gate's log does not say how to approve:\n%s", log)
	}
	if m := n.find("approval.requested"); m == nil || !strings.Contains(m.Text, want) {
		t.Errorf("the approval request does not say how to approve: %+v", m)
	}
}

// TestFailureTextWithoutTerminalColours: a failed step whose output is
// coloured (a compiler's red "error") is announced, and its error kept,
// as text: the last lines of its log without escape sequences, which
// Teams, Slack, e-mail and the CLI would show as "[31m".
func TestFailureTextWithoutTerminalColours(t *testing.T) {
	n := &notes{}
	f := newFixture(t, func(o *Options) { o.Deps.Notifier = n })
	dir := f.project(`
project: {name: site}
environments: {staging: {}}
notifications:
  channels:
    teams: {type: webhook, url: "https://hooks.example.com/x"}
pipeline:
  stages:
    - name: main
      steps:
        - {name: build, run: "printf '\\033[1;31merror\\033[0m TS2322: not assignable\\n'; exit 2"}
        - {name: alert, uses: notify, needs: [build], if: failure(), with: {event: release.failed, channel: teams}}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	a := n.find("release.failed")
	if d.Status != Failed || a == nil || !strings.Contains(a.Text, "error TS2322: not assignable") || strings.Contains(a.Text, "\x1b") {
		t.Fatalf("run %s, announced %+v", d.Status, a)
	}
	if e := stepOf(d, "main/build").Error; strings.Contains(e, "\x1b") {
		t.Fatalf("the step's error keeps escape sequences: %q", e)
	}
	if log := f.log(d.ID, "main/build"); !strings.Contains(log, "\x1b[1;31m") {
		t.Fatalf("the log lost its colours (a terminal following it shows them):\n%q", log)
	}
}
