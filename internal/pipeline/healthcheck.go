package pipeline

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// HealthCheck is where a run left its health check of one environment:
// what a server starting after a stop or a crash needs to know of a
// deployment the run made there (see Unverified).
type HealthCheck struct {
	Run       int64  // the run
	RunStatus string // the run's status
	// Step is the run's health-check step of the environment that did not
	// succeed (the first in plan order), else its last one; "" when the
	// run's plan has none. Status is that step's status.
	Step   string
	Status string
}

// Unverified reports whether the run ended before its health check of the
// environment succeeded: interrupted (the server stopped or crashed),
// cancelled, or finished with the check failed and the deployment left
// live (no rollback step took it back) or skipped. The deployment it made
// there was verified by no one, and nothing will (a finished run does not
// run again; 'phoenix retry' runs a new one). A run whose plan has no
// health check of the environment never verifies its deployment there,
// so it leaves none unverified.
func (h HealthCheck) Unverified() bool {
	return h.Final() && h.Step != "" && h.Status != Succeeded
}

// Final reports whether the run has finished: h no longer changes.
func (h HealthCheck) Final() bool { return Finished(h.RunStatus) }

// HealthCheckOf says where run id left its health check of env: the run's
// status and the status of its health-check steps acting on env. Both are
// read from the database, so it tells the same after a graceful stop
// (which marks the run interrupted as it stops it) and after a crash
// (whose runs the next Start or Lead marks interrupted; a run only
// waiting for an approval is resumed instead, so it is not final). A run that does
// not exist (pruned) is a usererr.NotFound error.
func (s *Service) HealthCheckOf(ctx context.Context, id int64, env string) (HealthCheck, error) {
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return HealthCheck{}, err
	}
	h := HealthCheck{Run: id, RunStatus: r.Status}
	checks := healthChecks(r, env)
	if len(checks) == 0 {
		return h, nil
	}
	steps, err := s.loadSteps(ctx, id)
	if err != nil {
		return HealthCheck{}, err
	}
	status := make(map[string]string, len(steps))
	for _, st := range steps {
		status[st.ID] = st.Status
	}
	for _, step := range checks {
		h.Step, h.Status = step, status[step]
		if h.Status == "" { // not recorded: it never started
			h.Status = Pending
		}
		if h.Status != Succeeded {
			break
		}
	}
	return h, nil
}

// healthChecks lists, in plan order, the IDs of r's health-check steps
// acting on env: the step's environment, else the run's only one (as the
// action itself resolves it).
func healthChecks(r *Run, env string) []string {
	if r.Plan == nil {
		return nil
	}
	var out []string
	for _, st := range r.Plan.Steps {
		if st.Uses == spec.HealthCheckAction && stepEnvironment(r, st) == env {
			out = append(out, st.ID)
		}
	}
	return out
}

// stepEnvironment is the environment st of run r acts on: its own, else
// the run's only one ("" when the run has several).
func stepEnvironment(r *Run, st *spec.Step) string {
	if st.Environment != "" {
		return st.Environment
	}
	if len(r.Environments) == 1 {
		return r.Environments[0]
	}
	return ""
}
