package app

import (
	"context"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

func TestSecretSubjectFollowsTheRun(t *testing.T) {
	run := func(env string, envs ...string) context.Context {
		return action.WithRun(context.Background(), action.RunInfo{ID: "7", Trigger: "release", Environment: env, Environments: envs})
	}
	cases := []struct {
		name string
		ctx  context.Context
		prod bool
		env  string
	}{
		{"no run: webhook verification", context.Background(), false, ""},
		{"staging step", run("staging", "staging", "production"), false, "staging"},
		{"production step", run("production", "staging", "production"), true, "production"},
		{"whole-run step of a release reaching production", run("", "staging", "production"), true, ""},
		{"whole-run step of a staging release", run("", "staging"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := secretSubject(c.ctx)
			if s.Production != c.prod || s.Environment != c.env || !s.IsRun() {
				t.Fatalf("subject = %+v", s)
			}
		})
	}
}
