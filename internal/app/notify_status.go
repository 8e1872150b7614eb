package app

import (
	"context"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
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
