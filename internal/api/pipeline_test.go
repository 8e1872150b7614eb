package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
)

// TestReleaseApproveAndFollowLogs: a release made through the API waits
// at its gate; its releaser cannot approve it, another approver can; the
// followed logs stream until the run has finished.
func TestReleaseApproveAndFollowLogs(t *testing.T) {
	f := newFixture(t)
	status, out, _ := f.call("contributor", "POST", "/api/v1/releases", ReleaseRequest{Dir: f.gated, Version: "4.0.0",
		Environments: []string{"production"}})
	var run pipeline.Run
	if status != 201 || json.Unmarshal(out, &run) != nil || run.Actor != "contributor" {
		t.Fatalf("release = %d %s", status, out)
	}
	if status, out, _ := f.call("contributor", "POST", fmt.Sprintf("/api/v1/runs/%d/approve", run.ID), DecisionRequest{}); status != 403 {
		t.Fatalf("contributor approve = %d %s", status, out)
	}
	if status, _, _ := f.call("approver", "POST", fmt.Sprintf("/api/v1/runs/%d/reject", run.ID), DecisionRequest{}); status != 400 {
		t.Fatalf("reject without a reason = %d, want 400", status)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/runs/%d/logs?follow=true", f.srv.URL, run.ID), nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["viewer"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	first, err := lines.ReadString('\n') // arrives while the run still waits
	if err != nil || !strings.Contains(first, "waiting for 1 approval") {
		t.Fatalf("first streamed line %q: %v", first, err)
	}
	if status, out, _ := f.call("approver", "POST", fmt.Sprintf("/api/v1/runs/%d/approve", run.ID), DecisionRequest{Comment: "ok"}); status != 204 {
		t.Fatalf("approve = %d %s", status, out)
	}
	var rest bytes.Buffer
	rest.ReadFrom(lines) // ends when the run has finished
	if !strings.Contains(rest.String(), "approved by approver") {
		t.Fatalf("followed log:\n%s%s", first, rest.String())
	}
	_, out, _ = f.call("viewer", "GET", fmt.Sprintf("/api/v1/runs/%d", run.ID), nil)
	var d pipeline.RunDetail
	if json.Unmarshal(out, &d) != nil || d.Status != pipeline.Succeeded || len(d.Approvals) != 1 {
		t.Fatalf("run after approval: %s", out)
	}
}

// TestWebhookTriggersAWorkflow: /hooks/PROJECT/WORKFLOW needs no API token
// but the workflow's HMAC signature; a bad one is refused and audited.
func TestWebhookTriggersAWorkflow(t *testing.T) {
	t.Setenv("PHX_API_HOOK_SECRET", "whsec-api-test-123")
	f := newFixture(t)
	dir := f.project(t.TempDir(), "hooked", quickYAML+`
workflows:
  on-push:
    triggers:
      - webhook: {auth: hmac, secret: "env:PHX_API_HOOK_SECRET"}
    steps:
      - {name: show, run: echo pushed}
`)
	f.run(dir, "staging") // registers the project's workflows
	body := []byte(`{"ref":"refs/heads/main","after":"abc"}`)
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/hooks/shop/on-push", bytes.NewReader(body))
		req.Header.Set("X-Phoenix-Signature", sig)
		req.Header.Set("X-GitHub-Event", "push")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, out := post(trigger.Sign("wrong", body)); code != 401 {
		t.Fatalf("bad signature = %d %s", code, out)
	}
	if code, out := post(trigger.Sign("whsec-api-test-123", body)); code != 202 || !strings.Contains(out, `"run"`) {
		t.Fatalf("good signature = %d %s", code, out)
	}
	_, out, _ := f.call("admin", "GET", "/api/v1/audit/export?action=pipeline.webhook.denied", nil)
	if !strings.Contains(string(out), "shop/on-push") {
		t.Fatalf("refused delivery not audited: %s", out)
	}
}

// bareWriter is a ResponseWriter that cannot flush, like an in-process
// caller's buffer.
type bareWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *bareWriter) Header() http.Header         { return w.header }
func (w *bareWriter) WriteHeader(int)             {}
func (w *bareWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

// TestLogsToAWriterThatCannotFlush: a run's logs reach a writer without
// Flush whole, every step's, and the server warns about nothing.
func TestLogsToAWriterThatCannotFlush(t *testing.T) {
	f := newFixture(t)
	dir := f.project(t.TempDir(), "multi", `
project: {name: shop}
environments: {staging: {}}
pipeline:
  stages:
    - name: one
      steps: [{name: a, run: "echo from-a"}, {name: b, run: "echo from-b"}]
    - name: two
      steps: [{name: c, run: "echo from-c"}]
`)
	id := f.run(dir, "staging")
	if err := f.pipe.Logs(bg, id, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/runs/%d/logs", id), nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["viewer"])
	w := &bareWriter{header: http.Header{}}
	f.api.Handler().ServeHTTP(w, req)
	for _, want := range []string{"one/a | from-a", "one/b | from-b", "two/c | from-c"} {
		if !strings.Contains(w.body.String(), want) {
			t.Errorf("no %q in the logs:\n%s", want, w.body.String())
		}
	}
	if strings.Contains(f.logs.String(), "run logs") {
		t.Errorf("the server warned:\n%s", f.logs.String())
	}
}

// TestRunsRefusesAnUnknownStatus: a status no run can have is a 400 that
// lists the statuses, not an empty list; every real one is accepted.
func TestRunsRefusesAnUnknownStatus(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.call("viewer", "GET", "/api/v1/runs?status=bogus", nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "want one of queued, running, waiting, succeeded, failed, cancelled, interrupted") {
		t.Fatalf("status=bogus: %d %s", code, body)
	}
	for _, st := range pipeline.RunStatuses {
		if code, body, _ := f.call("viewer", "GET", "/api/v1/runs?status="+st, nil); code != http.StatusOK {
			t.Errorf("status=%s: %d %s", st, code, body)
		}
	}
}

// TestRunsOfAnUnknownProject: runs of a project that was never deployed
// nor released are a 404 naming it, not an empty list; one without runs
// but with deployments is an empty list.
func TestRunsOfAnUnknownProject(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.call("admin", "GET", "/api/v1/runs?project=nope", nil)
	if code != http.StatusNotFound || !strings.Contains(string(body), `no project \"nope\"`) {
		t.Fatalf("project=nope: %d %s", code, body)
	}
	if err := f.dep.EnsureProject(context.Background(), "quiet"); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := f.call("admin", "GET", "/api/v1/runs?project=quiet", nil); code != http.StatusOK || !strings.Contains(string(body), `"items": []`) {
		t.Fatalf("project=quiet: %d %s", code, body)
	}
}

// TestRunsArePaged: the runs list pages with next_cursor, newest first,
// each run once, the last page without a cursor; a cursor it did not
// issue is a 400.
func TestRunsArePaged(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		f.finished(f.run(f.quick, "staging"))
	}
	var all Page[pipeline.Run]
	if code, body, _ := f.call("viewer", "GET", "/api/v1/runs?project=shop", nil); code != http.StatusOK || json.Unmarshal(body, &all) != nil ||
		len(all.Items) < 5 || all.NextCursor != "" {
		t.Fatalf("every run: %d %s", code, body)
	}
	var want, got []int64
	for _, r := range all.Items {
		want = append(want, r.ID)
	}
	path := "/api/v1/runs?project=shop&limit=2"
	for pages := 0; ; pages++ {
		code, body, _ := f.call("viewer", "GET", path, nil)
		var pg Page[pipeline.Run]
		if code != http.StatusOK || json.Unmarshal(body, &pg) != nil || len(pg.Items) > 2 || pages > 5 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		for _, r := range pg.Items {
			got = append(got, r.ID)
		}
		if pg.NextCursor == "" {
			break
		}
		path = "/api/v1/runs?project=shop&limit=2&cursor=" + pg.NextCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged runs %v, want %v", got, want)
	}
	if code, body, _ := f.call("viewer", "GET", "/api/v1/runs?cursor=x", nil); code != http.StatusBadRequest {
		t.Fatalf("cursor=x: %d %s", code, body)
	}
}

// TestLogsOfAStepTheRunDoesNotHave: GET /runs/N/logs?step=S for a step
// the run does not have answered 200 with nothing, so phoenix logs N
// --step build/compile (the default pipeline's step is build) printed
// nothing and exited 0, as for a step that wrote nothing. It is a 404
// naming the run's steps now; a real step's log is as before.
func TestLogsOfAStepTheRunDoesNotHave(t *testing.T) {
	f := newFixture(t)
	status, out, hdr := f.call("viewer", "GET", fmt.Sprintf("/api/v1/runs/%d/logs?step=main/okk", f.done), nil)
	var e Error
	if status != http.StatusNotFound || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal(out, &e) != nil ||
		e.Message != fmt.Sprintf("run %d has no step %q", f.done, "main/okk") || e.Hint != "did you mean main/ok? its steps: main/ok" {
		t.Fatalf("a step the run does not have = %d %s %s", status, hdr.Get("Content-Type"), out)
	}
	status, out, _ = f.call("viewer", "GET", fmt.Sprintf("/api/v1/runs/%d/logs?step=main/ok", f.done), nil)
	if status != http.StatusOK || !strings.HasPrefix(string(out), "quick release ") {
		t.Fatalf("the step's log = %d %q", status, out)
	}
}
