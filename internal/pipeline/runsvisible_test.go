package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// TestActsOn: a run acts on the environments it was released to, those
// its steps name (a stage's, a with: environment) and that of the Phoenix
// event that started it (not a webhook's); a listed run, its plan left
// out, still knows them.
func TestActsOn(t *testing.T) {
	plan := &spec.Plan{Steps: []*spec.Step{{ID: "build"}, {ID: "prod/deploy", Environment: "production"},
		{ID: "check", With: map[string]any{"environment": "qa"}}}}
	r := Run{Environments: []string{"staging"}, Plan: plan, Inputs: Inputs{Event: "deploy.succeeded", Environment: "edge"}}
	if got, want := r.ActsOn(), []string{"staging", "production", "qa", "edge"}; !slices.Equal(got, want) {
		t.Fatalf("ActsOn = %v, want %v", got, want)
	}
	r.dropPlan()
	if got, want := r.ActsOn(), []string{"staging", "production", "qa", "edge"}; r.Plan != nil || !slices.Equal(got, want) {
		t.Fatalf("ActsOn without the plan = %v, want %v", got, want)
	}
	hook := Run{Inputs: Inputs{Webhook: "push", Event: "push", Environment: "x"}}
	if got := hook.ActsOn(); len(got) != 0 {
		t.Fatalf("a webhook's run acts on %v, want none", got)
	}
	staging := func(env string) bool { return env == "" || env == "staging" }
	if r.VisibleWith(staging) || !hook.VisibleWith(staging) || !(&Run{Environments: []string{"staging"}}).VisibleWith(staging) {
		t.Fatal("VisibleWith: want only the runs acting on staging or on nothing")
	}
	if (&Run{}).VisibleWith(func(string) bool { return false }) {
		t.Fatal("a run acting on nothing is visible without read on its project")
	}
}

// TestRunsKeepsFillingTheLimit: with Keep, Runs reads on past the runs it
// leaves out until it has Limit runs (or there are no more), newest first,
// and Keep sees each run's plan.
func TestRunsKeepsFillingTheLimit(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	prodPlan := `{"name":"release","steps":[{"id":"prod/deploy","name":"deploy","environment":"production"}]}`
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var staging []int64 // the runs a staging reader sees, newest first
	err := f.db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range 700 {
			env, plan := "staging", `{"name":"release","steps":[]}`
			switch {
			case i%3 == 0:
				env = "production"
			case i%5 == 0:
				plan = prodPlan // released to staging, a step acts on production
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO pipeline_runs (project, kind, environments, dir, plan, status, created_at)
				VALUES ('shop', 'release', $1, '/p', $2, 'succeeded', $3) RETURNING id`, env, plan, now).Scan(&id); err != nil {
				return err
			}
			if env == "staging" && plan != prodPlan {
				staging = append([]int64{id}, staging...)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(r *Run) bool {
		return r.VisibleWith(func(env string) bool { return env == "" || env == "staging" })
	}
	for _, limit := range []int{1, 50, 300, 1000} {
		runs, err := f.svc.Runs(ctx, RunFilter{Project: "shop", Limit: limit, Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		want := staging[:min(limit, len(staging))]
		var got []int64
		for _, r := range runs {
			got = append(got, r.ID)
			if r.Plan != nil {
				t.Fatalf("run %d listed with its plan", r.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %d runs %s, want %d %s", limit, len(got), ends(got), len(want), ends(want))
		}
	}
	if all, err := f.svc.Runs(ctx, RunFilter{Limit: 1000}); err != nil || len(all) != 700 {
		t.Fatalf("without Keep: %d runs, %v", len(all), err)
	}
}

func ends(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d … %d]", ids[0], ids[len(ids)-1])
}
