package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// NotifyTester sends test messages through a project's notification
// channels (the app's dispatcher).
type NotifyTester interface {
	// ProjectEnvironments returns every environment of project, its
	// phoenix.yaml's and the server's: testing a channel needs deploy on
	// each, as changing the channels does (RequireConfig).
	ProjectEnvironments(ctx context.Context, project string) ([]string, error)
	// TestChannel sends a test message through project's channel name (as
	// phoenix.yaml names it) on behalf of actor, now, and returns the
	// receiver's answer. A channel the project does not have is a
	// NotFound error; channels that did not load a Conflict saying why.
	TestChannel(ctx context.Context, project, name, actor string) (NotifyTestResult, error)
}

// NotifyTestResult is POST /api/v1/projects/{project}/channels/{channel}/test's
// answer: what the receiver answered the test message, and the
// notify-undeliverable alert its success resolved, if one fired.
type NotifyTestResult struct {
	notify.TestResult
	Resolved string `json:"resolved,omitempty"` // the alert's ID, e.g. notify-undeliverable@notify:shop/teams
}

// notifyRoutes test a project's channels. Whoever may change the
// channels may test them: deploy on every environment of the project,
// since they read secrets as production; whoever may not read the
// project is told it has no such channel.
func (a *API) notifyRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/projects/{project}/channels/{channel}/test", Tag: "monitor", Perm: auth.Deploy,
			Resource: channelResource,
			Action:   "notify.test", Missing: "the project has no such channel, or the caller may not read the project",
			Summary: "Send a test message through a project's notification channel now and answer what its receiver said " +
				"(deploy on every environment of the project); a success resolves the channel's notify-undeliverable alert",
			Response: NotifyTestResult{}, Handler: a.testChannel},
	}
}

// channelResource is the project of the channel in r's path; to a caller
// who may not read the project it has no such channel (404), as its
// channels are not theirs to know of.
func channelResource(r *http.Request) (auth.Resource, error) {
	res := auth.Resource{Project: r.PathValue("project")}
	if err := auth.Require(PrincipalFrom(r.Context()), auth.Read, res); err != nil {
		return res, &hiddenError{denied: err, shown: noChannel(res.Project, r.PathValue("channel"))}
	}
	return res, nil
}

// noChannel is the answer for a channel a project does not have.
func noChannel(project, name string) error {
	return usererr.New(usererr.NotFound, "project %s has no notification channel %q", project, name).
		WithHint("phoenix status names the channels; phoenix.yaml declares them under notifications.channels")
}

func (a *API) testChannel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	project, name := r.PathValue("project"), r.PathValue("channel")
	envs, err := a.opts.NotifyTest.ProjectEnvironments(ctx, project)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	for _, env := range envs {
		if err := auth.Require(PrincipalFrom(ctx), auth.Deploy, auth.Resource{Project: project, Environment: env}); err != nil {
			a.deny(w, r, routeOf(r), usererr.Wrap(usererr.KindOf(err), err, fmt.Sprintf(
				"testing project %s's notification channels, which read secrets as production, needs deploy on every environment of the project, and you lack it on %s",
				project, env)).WithHint("ask someone with deploy on every environment to test it"))
			return
		}
	}
	res, err := a.opts.NotifyTest.TestChannel(ctx, project, name, PrincipalFrom(ctx).User)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if a.opts.Audit != nil {
		ev := audit.Event{Action: "notify.test", Target: project + "/" + name, Detail: testDetail(res)}
		if !res.OK {
			ev.Outcome = audit.Failed
		}
		if _, err := a.opts.Audit.Append(ctx, ev); err != nil {
			WriteError(w, r, fmt.Errorf("api: audit a channel's test: %w", err))
			return
		}
	}
	WriteJSON(w, http.StatusOK, res)
}

// testDetail is the audit record's detail of a test: the outcome, the
// receiver's status and answer (scrubbed of the URL and keys as every
// channel's error is), the alert it resolved.
func testDetail(res NotifyTestResult) string {
	d := res.Outcome
	if res.HTTPStatus != 0 {
		d += fmt.Sprintf(", HTTP %d", res.HTTPStatus)
	}
	if res.Error != "" {
		d += ": " + res.Error
	}
	if res.Resolved != "" {
		d += "; resolved " + res.Resolved
	}
	return d
}
