package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// notifyHealth is what keeps each project's notifications from its
// channels, for phoenix status (api.Options.Notifications): the channels
// that did not load and why (reconfigure's chanErr, which names secrets,
// never their values), and those whose last delivery failed for good.
// A project whose channels all work is absent.
func (a *App) notifyHealth(ctx context.Context) (map[string]api.NotifyHealth, error) {
	out := map[string]api.NotifyHealth{}
	if a.projects == nil || a.Notify == nil {
		return out, nil
	}
	a.projects.mu.Lock()
	for project, err := range a.projects.chanErr {
		h := api.NotifyHealth{Error: err.Error()}
		if cfg := a.projects.cfg[project]; cfg != nil {
			for name := range cfg.Notifications.Channels {
				h.Unloaded = append(h.Unloaded, name)
			}
			slices.Sort(h.Unloaded)
		}
		out[project] = h
	}
	a.projects.mu.Unlock()
	failing, err := a.Notify.Failures(ctx)
	if err != nil {
		return out, err
	}
	for _, f := range failing {
		project, name, ok := strings.Cut(f.Channel, "/")
		if !ok {
			continue
		}
		f.Channel = name
		h := out[project]
		h.Failing = append(h.Failing, f)
		out[project] = h
	}
	return out, nil
}

// undeliverable lists for the built-in alert notify-undeliverable
// (monitor.Options.Undeliverable) what notifyHealth finds: each project
// whose channels did not load, each channel whose messages fail for good.
func (a *App) undeliverable(ctx context.Context) ([]monitor.Undeliverable, error) {
	health, err := a.notifyHealth(ctx)
	if err != nil {
		return nil, err
	}
	var out []monitor.Undeliverable
	for project, h := range health {
		if h.Error != "" {
			out = append(out, monitor.Undeliverable{Project: project, Error: h.Error})
		}
		for _, f := range h.Failing {
			out = append(out, monitor.Undeliverable{Project: project, Channel: f.Channel, Event: f.Event, At: f.FailedAt,
				Failed: f.Failed, Error: f.Error})
		}
	}
	return out, nil
}

// notifyTester sends phoenix notify test's messages (api.NotifyTester).
type notifyTester struct{ a *App }

// ProjectEnvironments returns the environments of project's phoenix.yaml
// and those the server has: testing its channels needs deploy on each, as
// changing them does (configNeeds).
func (t notifyTester) ProjectEnvironments(ctx context.Context, project string) ([]string, error) {
	return t.a.everyEnvironment(ctx, project, t.a.projects.get(project))
}

// TestChannel sends a test message through project's channel name now.
// A success takes the channel off the failing ones, and the
// notify-undeliverable alert it had resolves at once (on the server that
// evaluates alerts: a lone one, or the replicas' leader; the others' at
// its next evaluation, within seconds).
func (t notifyTester) TestChannel(ctx context.Context, project, name, actor string) (api.NotifyTestResult, error) {
	a := t.a
	if a.projects == nil || a.Notify == nil {
		return api.NotifyTestResult{}, usererr.New(usererr.Unavailable, "the server's channels are not running yet")
	}
	a.projects.mu.Lock()
	cfg, chanErr := a.projects.cfg[project], a.projects.chanErr[project]
	a.projects.mu.Unlock()
	if cfg == nil || cfg.Notifications.Channels[name] == nil {
		return api.NotifyTestResult{}, usererr.New(usererr.NotFound, "project %s has no notification channel %q", project, name).
			WithHint("phoenix status names the channels; phoenix.yaml declares them under notifications.channels")
	}
	if chanErr != nil {
		return api.NotifyTestResult{}, usererr.New(usererr.Conflict, "project %s's notification channels did not load, so none can be tested: %s", project, chanErr).
			WithHint("store the missing secret (phoenix secret set) or unseal the vault; phoenix status says the same")
	}
	res, err := a.Notify.Test(ctx, project+"/"+name, notify.TestMessage(project, name, actor))
	if errors.Is(err, notify.ErrNoChannel) { // the channels changed meanwhile
		return api.NotifyTestResult{}, usererr.New(usererr.NotFound, "project %s has no notification channel %q loaded", project, name)
	}
	if err != nil {
		return api.NotifyTestResult{}, err
	}
	res.Channel = name
	out := api.NotifyTestResult{TestResult: res}
	if !res.OK || (a.opts.Replica.On && !a.leading.Load()) {
		return out, nil
	}
	id := monitor.AlertID(monitor.UndeliverableRule, monitor.UndeliverableInstance(project, name))
	firing := func() bool {
		alerts, err := a.Monitor.Alerts(ctx, false)
		return err == nil && slices.ContainsFunc(alerts, func(al monitor.Alert) bool { return al.ID == id })
	}
	if !firing() {
		return out, nil
	}
	if err := a.Monitor.EvaluateUndeliverable(ctx); err != nil {
		a.log.Error("notify: evaluate notify-undeliverable after a test", "err", err)
		return out, nil
	}
	if !firing() {
		out.Resolved = id
	}
	return out, nil
}
