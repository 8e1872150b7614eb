package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// releaseBoth releases stagedYAML to staging and production as seed and
// returns the run once it has finished; contractor may read shop's
// staging only.
func (f *fixture) releaseBoth() (dir string, run int64) {
	f.t.Helper()
	if _, err := f.auth.CreateUser(bg, "contractor", "", []auth.Grant{{Role: auth.RoleViewer, Project: "shop", Environment: "staging"}}); err != nil {
		f.t.Fatal(err)
	}
	f.tokens["contractor"] = f.mint("contractor", auth.TokenRequest{})
	dir = f.project(f.t.TempDir(), "staged", stagedYAML)
	r, err := f.pipe.Release(bg, pipeline.ReleaseRequest{Dir: dir, Version: "7.0.0", Environments: []string{"staging", "production"}, Actor: "seed"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.finished(r.ID)
	return dir, r.ID
}

// finished waits for run id to end.
func (f *fixture) finished(id int64) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	if err := f.pipe.Logs(ctx, id, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		f.t.Fatal(err)
	}
}

// answer sends a request as who and reads the body only of an error: a
// followed log that is served (the run waiting at its gate) would stream
// until the run ends.
func (f *fixture) answer(who, method, path string, body any) (int, []byte) {
	f.t.Helper()
	resp := f.send(who, method, path, body)
	defer resp.Body.Close()
	if resp.StatusCode < 400 {
		return resp.StatusCode, nil
	}
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestAStagingReaderDoesNotSeeProductionRuns: a user who may read only
// shop's staging, and the staging deploy token, see the runs that act on
// staging alone or on no environment; a run that acts on production
// (a release through both, a production release, a workflow whose step
// checks production) is left out of the list, however many there are
// before the runs they may see, and every route of it answers as for a run
// that does not exist, while the denial is audited. Before, read on the
// project was enough to list them and read their logs.
func TestAStagingReaderDoesNotSeeProductionRuns(t *testing.T) {
	f := newFixture(t)
	dir, both := f.releaseBoth()
	start := func(workflow string) int64 {
		run, err := f.pipe.StartWorkflow(bg, pipeline.WorkflowRequest{Dir: dir, Workflow: workflow, Actor: "seed"})
		if err != nil {
			t.Fatal(err)
		}
		f.finished(run.ID)
		return run.ID
	}
	failover := start("failover")
	lint := start("lint")
	gated := f.run(f.gated, "production") // waits at its gate
	hiddenRuns := []int64{both, failover, gated}
	visible := []int64{f.done, lint}

	ids := func(who, query string) []int64 {
		t.Helper()
		status, out, _ := f.call(who, "GET", "/api/v1/runs"+query, nil)
		var page Page[pipeline.Run]
		if status != http.StatusOK || json.Unmarshal(out, &page) != nil {
			t.Fatalf("%s lists runs%s: %d %s", who, query, status, out)
		}
		var got []int64
		for _, r := range page.Items {
			got = append(got, r.ID)
		}
		return got
	}
	if got := ids("admin", "?project=shop"); len(got) != 5 {
		t.Fatalf("admin lists %v, want all five runs", got)
	}
	for _, who := range []string{"contractor", "ci"} {
		if got := ids(who, "?project=shop"); !slices.Equal(got, []int64{lint, f.done}) {
			t.Errorf("%s lists %v, want only %v (staging and no environment)", who, got, []int64{lint, f.done})
		}
		if got := ids(who, "?limit=1"); !slices.Equal(got, []int64{lint}) { // three newer runs are hidden
			t.Errorf("%s lists %v with limit=1, want the newest it may see, %d", who, got, lint)
		}
		if got := ids(who, "?project=shop&status=waiting"); len(got) != 0 {
			t.Errorf("%s lists %v waiting, want none", who, got)
		}
	}

	_, missing, _ := f.call("contractor", "GET", "/api/v1/runs/999999", nil)
	var want Error
	json.Unmarshal(missing, &want)
	denied := func() int {
		recs, err := f.log.Query(bg, audit.Filter{Action: "access.denied"})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	for _, id := range hiddenRuns {
		path := fmt.Sprintf("/api/v1/runs/%d", id)
		for _, c := range []struct{ method, path string }{
			{"GET", path}, {"GET", path + "/logs"}, {"GET", path + "/logs?step=prod/deploy"}, {"GET", path + "/logs?follow=true"},
			{"POST", path + "/cancel"}, {"POST", path + "/retry"}, {"POST", path + "/approve"}, {"POST", path + "/reject"},
		} {
			for _, who := range []string{"contractor", "ci"} {
				before := denied()
				var body any
				if c.method == "POST" {
					body = DecisionRequest{Comment: "x"}
					if !strings.HasSuffix(c.path, "approve") && !strings.HasSuffix(c.path, "reject") {
						body = nil
					}
				}
				status, out := f.answer(who, c.method, c.path, body)
				var got Error
				json.Unmarshal(out, &got)
				if status != http.StatusNotFound || got.Code != want.Code || got.Hint != want.Hint ||
					got.Message != fmt.Sprintf("no run %d", id) {
					t.Errorf("%s %s as %s = %d %s, want 404 as for a missing run (%s)", c.method, c.path, who, status, out, missing)
				}
				if strings.Contains(string(out), "production") || strings.Contains(string(out), "shipped") {
					t.Errorf("%s %s as %s tells of production: %s", c.method, c.path, who, out)
				}
				if denied() != before+1 {
					t.Errorf("%s %s as %s: the denial is not audited", c.method, c.path, who)
				}
			}
		}
	}
	recs, _ := f.log.Query(bg, audit.Filter{Action: "access.denied", Actor: "contractor"})
	if len(recs) == 0 || !strings.Contains(recs[len(recs)-1].Detail, "read on shop/production") {
		t.Errorf("denial records: %+v, want the environment that may not be read", recs)
	}
	for _, id := range visible {
		path := fmt.Sprintf("/api/v1/runs/%d", id)
		for _, p := range []string{path, path + "/logs"} {
			if status, out, _ := f.call("contractor", "GET", p, nil); status != http.StatusOK {
				t.Errorf("contractor GET %s = %d %s", p, status, out)
			}
		}
	}
	status, out, _ := f.call("admin", "GET", fmt.Sprintf("/api/v1/runs/%d/logs", both), nil)
	if status != http.StatusOK || !strings.Contains(string(out), "shipped to production") {
		t.Fatalf("admin reads the production log: %d %s", status, out)
	}
	// stager reads production too (viewer there): sees the run, and is
	// refused its retry for lack of deploy on production, by name.
	if status, out, _ := f.call("stager", "POST", fmt.Sprintf("/api/v1/runs/%d/retry", both), nil); status != http.StatusForbidden ||
		!strings.Contains(string(out), "production") {
		t.Errorf("stager retries a production run: %d %s", status, out)
	}
}
