package pipeline

import (
	"context"
	"fmt"
	"io"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// healthChecked is called by st, a health-check step of env that passed:
// once every health-check step of the run acting on env has, it records
// the deployment the run made there as verified (action.RunVerifier), so
// promote_from counts it from then on — before any step that needs st
// starts. It notes in the step's log (w) what it recorded.
func (e *execution) healthChecked(ctx context.Context, st *spec.Step, env string, w io.Writer) error {
	v, ok := e.s.opts.Deps.Deployer.(action.RunVerifier)
	if !ok {
		return nil
	}
	e.mu.Lock()
	id, passed := e.deployments[env], e.checksPassed(env, st.ID, false)
	e.mu.Unlock()
	if id == 0 || !passed {
		return nil
	}
	recorded, err := v.RunPassed(ctx, e.run.Project, env, id, itoa(e.run.ID))
	switch {
	case err != nil:
		return fmt.Errorf("record that the health checks of %s passed on deployment %d: %w", env, id, err)
	case recorded:
		fmt.Fprintf(w, "[phoenix] %s: deployment %d passed this run's health checks: verified\n", env, id)
	default:
		fmt.Fprintf(w, "[phoenix] %s: deployment %d is no longer live there (replaced or taken back): not recorded as verified\n", env, id)
	}
	return nil
}
