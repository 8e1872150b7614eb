package pipeline

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
)

const workflowYAML = `
project: {name: shop}
environments: {production: {}}
workflows:
  on-push:
    triggers:
      - webhook: {auth: hmac, secret: "env:PHX_HOOK_SECRET"}
    steps:
      - {name: show, run: echo "push of $PHOENIX_VERSION"}
  after-deploy:
    triggers:
      - {event: deploy.succeeded, environment: production}
    concurrency: skip
    steps:
      - {name: tell, run: echo deployed}
pipeline:
  stages:
    - name: main
      steps: [{name: ok, run: "true"}]
`

func TestWebhookAndEventTriggers(t *testing.T) {
	t.Setenv("PHX_HOOK_SECRET", "whsec-1234567-89abcdef")
	f := newFixture(t, nil)
	dir := f.project(workflowYAML)
	f.wait(f.release(dir, "1.0.0").ID) // registers the workflows
	srv := httptest.NewServer(http.StripPrefix("", f.svc.Webhooks()))
	defer srv.Close()
	body := []byte(`{"ref":"refs/tags/v1.0.1","after":"abc"}`)
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/hooks/shop/on-push", bytes.NewReader(body))
		req.Header.Set("X-Phoenix-Signature", sig)
		req.Header.Set("X-GitHub-Event", "push")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before, _ := f.svc.Runs(context.Background(), RunFilter{})
	if code := post(trigger.Sign("wrong", body)); code != 401 {
		t.Fatalf("bad signature: %d", code)
	}
	for range 20 { // a flood of refused deliveries is one audit record, not twenty-one
		post(trigger.Sign("wrong", body))
	}
	after, _ := f.svc.Runs(context.Background(), RunFilter{})
	if len(after) != len(before) || f.audit.count("pipeline.webhook.denied") != 1 {
		t.Fatalf("bad signatures triggered a run, or were audited %d times (want once)", f.audit.count("pipeline.webhook.denied"))
	}
	if code := post(trigger.Sign("whsec-1234567-89abcdef", body)); code != 202 {
		t.Fatalf("good signature: %d", code)
	}
	runs, _ := f.svc.Runs(context.Background(), RunFilter{})
	hook := runs[0]
	if hook.Workflow != "on-push" || hook.Trigger != "webhook" || hook.Version != "v1.0.1" {
		t.Fatalf("webhook run %+v", hook)
	}
	if d := f.wait(hook.ID); d.Status != Succeeded {
		t.Fatalf("webhook run %s", d.Status)
	}

	f.svc.Events().Publish(context.Background(), trigger.Event{Name: "deploy.succeeded", Project: "shop", Environment: "production"})
	f.svc.Events().Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, _ = f.svc.Runs(context.Background(), RunFilter{})
		if runs[0].Workflow == "after-deploy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("event trigger started nothing")
		}
		f.svc.Events().Wait()
	}
	if d := f.wait(runs[0].ID); d.Status != Succeeded || d.Trigger != "event" {
		t.Fatalf("event run %s %s", d.Status, d.Trigger)
	}
}

// shortHookYAML is workflowYAML with its hook's secret in the vault.
var shortHookYAML = strings.Replace(workflowYAML, `"env:PHX_HOOK_SECRET"`, `"secret:SHORT_HOOK"`, 1)

// TestShortWebhookSecretsAreRefused: a webhook secret under 16
// characters is refused when the release registers the hook and it can
// be read then; one that became short after (or could not be read then)
// makes the hook refuse every delivery, the right secret too, with a
// 401 and a denial record that says why. The secret never shows. Before,
// any secret of one character or more was taken.
func TestShortWebhookSecretsAreRefused(t *testing.T) {
	const short, long = "tiny-hook-tok", "a-long-enough-hook-token-0123456789"
	t.Setenv("PHX_TEST_SHORT_HOOK", short)
	f := newFixture(t, nil)
	dir := f.project(shortHookYAML)
	_, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "1.0.0", Actor: "alice"})
	if err == nil || !strings.Contains(err.Error(), "workflows.on-push.triggers[0].webhook.secret: the webhook secret secret:SHORT_HOOK is shorter than 16 characters") ||
		!strings.Contains(err.Error(), "openssl rand -hex 32 | phoenix secret set SHORT_HOOK") || strings.Contains(err.Error(), short) {
		t.Fatalf("release with a short webhook secret: %v", err)
	}
	if runs, _ := f.svc.Runs(context.Background(), RunFilter{}); len(runs) != 0 {
		t.Fatalf("the refused release queued %d runs", len(runs))
	}
	t.Setenv("PHX_TEST_SHORT_HOOK", long)
	f.wait(f.release(dir, "1.0.0").ID) // registers the hook
	t.Setenv("PHX_TEST_SHORT_HOOK", short)
	srv := httptest.NewServer(f.svc.Webhooks())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/hooks/shop/on-push", nil)
	req.Header.Set("X-Phoenix-Signature", trigger.Sign(short, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a delivery with the short secret = %d, want 401", resp.StatusCode)
	}
	if runs, _ := f.svc.Runs(context.Background(), RunFilter{}); len(runs) != 1 {
		t.Fatalf("%d runs, want only the release's", len(runs))
	}
	f.audit.mu.Lock()
	defer f.audit.mu.Unlock()
	var denied []string
	for _, e := range f.audit.events {
		if e.Action == "pipeline.webhook.denied" {
			denied = append(denied, e.Detail)
		}
	}
	if len(denied) != 1 || !strings.Contains(denied[0], "secret:SHORT_HOOK is shorter than 16 characters") || strings.Contains(denied[0], short) {
		t.Fatalf("denial records %q", denied)
	}
}

// deployedInProduction releases the project in dir (which registers its
// workflows), publishes deploy.succeeded of v1.4.1 in production and
// returns the runs, the newest first: its workflow "tell".
func (f *fixture) deployedInProduction(dir string) []Run {
	f.t.Helper()
	f.wait(f.release(dir, "1.0.0").ID)
	ctx := context.Background()
	f.svc.Events().Publish(ctx, trigger.Event{Name: "deploy.succeeded", Project: "shop", Environment: "production",
		Data: map[string]string{"version": "v1.4.1"}})
	f.svc.Events().Wait() // the handler has queued the run
	runs, err := f.svc.Runs(ctx, RunFilter{})
	if err != nil || len(runs) == 0 || runs[0].Workflow != "tell" {
		f.t.Fatalf("runs %+v (%v)", runs, err)
	}
	return runs
}

// TestEventWorkflowNotifiesAboutItsEvent: a notify step without inputs in
// a workflow that deploy.succeeded in production started sends
// deploy.succeeded for production (the trigger's), not release.succeeded
// for no environment.
func TestEventWorkflowNotifiesAboutItsEvent(t *testing.T) {
	n := &notes{}
	f := newFixture(t, func(o *Options) { o.Deps.Notifier = n })
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
notifications:
  channels:
    teams: {type: webhook, url: "https://hooks.example.com/x"}
workflows:
  tell:
    triggers:
      - {event: deploy.succeeded, environment: production}
    steps:
      - {name: tell, uses: notify, with: {channel: teams}}
pipeline:
  stages:
    - name: main
      steps: [{name: ok, run: "true"}]
`)
	runs := f.deployedInProduction(dir)
	if d := f.wait(runs[0].ID); d.Status != Succeeded {
		t.Fatalf("workflow run %s: %s", d.Status, d.Message)
	}
	got := n.find("deploy.succeeded")
	if got == nil || got.Environment != "production" || got.Project != "shop" || got.Channel != "teams" ||
		got.Severity != 3 || got.Version != "v1.4.1" || got.Message != "shop v1.4.1: deploy.succeeded" {
		t.Fatalf("notifications %+v", n.ns)
	}
	if n.find("release.succeeded") != nil {
		t.Errorf("the workflow also sent release.succeeded: %+v", n.ns)
	}
}

// TestEventWorkflowStepsKnowTheirEvent: a run: step of a workflow that an
// event started gets the event (PHOENIX_EVENT), its environment
// (PHOENIX_EVENT_ENVIRONMENT) and its version as the run's
// (PHOENIX_VERSION), as a webhook's run gets its tag. Before, such a step
// got an empty PHOENIX_VERSION and nothing of the event, so a script
// telling people about a production deployment could not say which.
func TestEventWorkflowStepsKnowTheirEvent(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
workflows:
  tell:
    triggers:
      - {event: deploy.succeeded, environment: production}
    steps:
      - {name: show, run: 'echo "version=$PHOENIX_VERSION event=$PHOENIX_EVENT env=$PHOENIX_EVENT_ENVIRONMENT step-env=$PHOENIX_ENVIRONMENT"'}
pipeline:
  stages:
    - name: main
      steps: [{name: ok, run: "true"}]
`)
	runs := f.deployedInProduction(dir)
	if runs[0].Version != "v1.4.1" {
		t.Errorf("the run's version %q, want the event's v1.4.1", runs[0].Version)
	}
	if d := f.wait(runs[0].ID); d.Status != Succeeded {
		t.Fatalf("workflow run %s: %s", d.Status, d.Message)
	}
	// The step acts on no environment of its own: the event's is told
	// apart, as the vault's policy goes by the step's.
	want := "version=v1.4.1 event=deploy.succeeded env=production step-env=\n"
	if got := f.log(runs[0].ID, "show"); got != want {
		t.Errorf("step log %q, want %q", got, want)
	}
}
