package projectcfg

import (
	"maps"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Summary is what the server uses of a project's phoenix.yaml and where
// it came from: names only (probes, alert rules, channels, health
// checks), never a URL or a secret.
type Summary struct {
	// Entry is the stored record; nil when none is stored (a server
	// upgraded with releases made before reads the latest run's folder).
	*Entry
	Project string `json:"project"`
	// From says where the file in effect came from: Entry.From, or
	// "the latest pipeline run's folder".
	From string `json:"from"`
	// Changed, for a hand-over, says whether it changed what was stored.
	Changed      bool                `json:"changed"`
	Probes       []string            `json:"probes"`
	AlertRules   []string            `json:"alert_rules"`
	Channels     []string            `json:"channels"`
	HealthChecks map[string][]string `json:"health_checks"` // environment -> check names
	// ChannelError says why the channels did not load (a missing secret).
	ChannelError string `json:"channel_error,omitempty"`
}

// LatestRun is Summary.From of a file read from the folder of the
// project's latest pipeline run.
const LatestRun = "the latest pipeline run's folder"

// Summarize describes cfg, project's phoenix.yaml in effect, stored as e
// (nil: read from the latest run's folder), with what readable allows of
// its environments (nil: every one): the health checks, probes and alert
// rules of an environment the caller may not read are left out, as
// /api/v1/projects and the status leave that environment out; those of
// no environment (a probe of an absolute URL, a rule of every
// environment) are the project's.
func Summarize(project string, e *Entry, cfg *config.Config, readable func(env string) bool) Summary {
	s := Summary{Entry: e, Project: project, From: LatestRun, Probes: []string{}, AlertRules: []string{}, Channels: []string{},
		HealthChecks: map[string][]string{}}
	if e != nil {
		s.From = e.From()
	}
	shown := func(env string) bool { return env == "" || readable == nil || readable(env) }
	for _, ep := range cfg.Monitor.Endpoints {
		if shown(ep.Environment) {
			s.Probes = append(s.Probes, ep.Name)
		}
	}
	for _, a := range cfg.Monitor.AllAlerts() {
		if shown(a.Environment) {
			s.AlertRules = append(s.AlertRules, a.Name)
		}
	}
	s.Channels = append(s.Channels, slices.Sorted(maps.Keys(cfg.Notifications.Channels))...) // [] when none, not null
	for name, env := range cfg.Environments {
		if !shown(name) {
			continue
		}
		for _, c := range envChecks(env) {
			s.HealthChecks[name] = append(s.HealthChecks[name], c.Name)
		}
	}
	return s
}

func envChecks(e *config.Environment) []config.Endpoint {
	if e == nil {
		return nil
	}
	return e.HealthChecks
}
