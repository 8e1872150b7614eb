package action

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// TestNotificationDefaults: a notify step's event and environment come
// from its inputs, else (in a workflow an event started) from that event,
// else release.succeeded and the step's environment.
func TestNotificationDefaults(t *testing.T) {
	deployed := &Event{Name: "deploy.succeeded", Environment: "production", Data: map[string]string{"version": "v1.4.1"}}
	failed := &Event{Name: "deploy.failed", Environment: "staging"}
	cases := []struct {
		name      string
		run       RunInfo
		step      *spec.Step
		with      map[string]any
		event     string
		env, vers string
		sev       int
	}{
		{"release", RunInfo{Version: "v2.0.0", Environments: []string{"production"}}, nil, nil,
			"release.succeeded", "production", "v2.0.0", 3},
		{"triggered by deploy.succeeded", RunInfo{Trigger: "event", Event: deployed}, nil, nil,
			"deploy.succeeded", "production", "v1.4.1", 3},
		{"triggered by deploy.failed", RunInfo{Trigger: "event", Event: failed}, nil, nil,
			"deploy.failed", "staging", "", 0},
		{"inputs win", RunInfo{Trigger: "event", Event: deployed}, nil, map[string]any{"event": "custom.done", "environment": "qa"},
			"custom.done", "qa", "v1.4.1", 3},
		{"the step's environment wins", RunInfo{Trigger: "event", Event: deployed}, &spec.Step{Environment: "staging"}, nil,
			"deploy.succeeded", "staging", "v1.4.1", 3},
		{"an event of no environment", RunInfo{Trigger: "event", Event: &Event{Name: "backup.completed"}}, nil, nil,
			"backup.completed", "", "", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run.Project = "shop"
			with := tc.with
			if with == nil {
				with = map[string]any{}
			}
			n := notification(&Context{Run: tc.run, Step: tc.step, With: with})
			if n.Event != tc.event || n.Environment != tc.env || n.Version != tc.vers || n.Severity != tc.sev || n.Project != "shop" {
				t.Errorf("got %+v, want event %s environment %q version %q severity %d", n, tc.event, tc.env, tc.vers, tc.sev)
			}
		})
	}
}
