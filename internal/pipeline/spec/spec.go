// Package spec turns phoenix.yaml into an executable plan: a flat DAG of
// steps with their needs, conditions (success(), failure(), always()),
// timeouts, retries with backoff, env, secrets and the environment each acts
// on. Stages become parallel groups: a stage's steps need every step of the
// stages it needs, and stages with the same needs run side by side, like the
// seed's par ... and ... end. With no pipeline written, Default builds the
// seed's release flow.
//
// Validate lists every problem of a plan at once (cycles, unknown steps and
// actions, bad conditions) before anything runs.
package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Condition says when a step runs, given how the steps before it ended.
type Condition string

// Conditions.
const (
	Success   Condition = "success"   // every step it needs succeeded (the default)
	Failure   Condition = "failure"   // some step before it failed
	Always    Condition = "always"    // once the steps it needs are done, whatever happened
	Cancelled Condition = "cancelled" // the run was cancelled
)

// ParseCondition reads "success()", "failure()", "always()", "cancelled()"
// or "" (success), as config.StepCondition does.
func ParseCondition(s string) (Condition, error) {
	c, ok := config.StepCondition(s)
	if !ok {
		return "", fmt.Errorf("unknown condition %q; use success(), failure(), always() or cancelled()", strings.TrimSpace(s))
	}
	return Condition(c), nil
}

// ApprovalAction is the built-in gate that waits for an environment's
// required approvals.
const ApprovalAction = "approval"

// HealthCheckAction is the built-in action that verifies an environment a
// run deployed to (its health_checks); until a step of it succeeds there,
// the run has not verified the deployment it made.
const HealthCheckAction = "health-check"

// Step is one node of the plan.
type Step struct {
	ID              string            `json:"id"` // unique in the plan: "name", or "stage/name"
	Name            string            `json:"name"`
	Stage           string            `json:"stage,omitempty"`
	Run             string            `json:"run,omitempty"`
	Uses            string            `json:"uses,omitempty"`
	With            map[string]any    `json:"with,omitempty"`
	Needs           []string          `json:"needs,omitempty"` // step IDs
	If              Condition         `json:"if"`
	Timeout         time.Duration     `json:"-"` // JSON: timeout_seconds (stepjson.go)
	Retries         int               `json:"retries,omitempty"`
	Backoff         time.Duration     `json:"-"` // before the first retry; doubles after each. JSON: backoff_seconds
	Env             map[string]string `json:"env,omitempty"`
	Dir             string            `json:"dir,omitempty"` // relative to the project root
	Secrets         []string          `json:"secrets,omitempty"`
	Environment     string            `json:"environment,omitempty"`
	Approvals       int               `json:"approvals,omitempty"` // approval steps: how many are needed
	Approvers       []string          `json:"approvers,omitempty"`
	ContinueOnError bool              `json:"continue_on_error,omitempty"`
}

// Kind is "run", "approval" or "uses".
func (s *Step) Kind() string {
	switch {
	case s.Uses == ApprovalAction:
		return "approval"
	case s.Uses != "":
		return "uses"
	}
	return "run"
}

// Plan is what a run executes.
type Plan struct {
	Name  string  `json:"name"` // "release" or the workflow name
	Steps []*Step `json:"steps"`
	// Disabled are the checks phoenix.yaml turned off when a release plan
	// was made, kept with the run so that what a release did not check is
	// a recorded fact, not a step that is missing; none for a workflow.
	Disabled []DisabledCheck `json:"disabled_checks,omitempty"`
	// Omitted are the stages of the project's pipeline a release plan
	// left out, for acting on environments the release does not go to
	// (FromConfig), or the default pipeline's build steps a promotion
	// left out (Promote); none for a workflow.
	Omitted []Omitted `json:"omitted_stages,omitempty"`
}

// DisabledCheck is a check that checks.NAME.enabled: false turned off.
type DisabledCheck struct {
	Check   string `json:"check"`        // audit, licenses, secrets or sbom
	Setting string `json:"setting"`      // "checks.secrets.enabled: false"
	At      string `json:"at,omitempty"` // the setting's FILE:LINE:COL then; "" when not from a file
}

// LeftOut are the checks of p.Disabled that no step of p uses
// (check/NAME): the gates a run of p does not have because phoenix.yaml
// turned them off. A step of one's own pipeline that uses a disabled
// check runs it all the same, so that check is not left out.
func (p *Plan) LeftOut() []DisabledCheck {
	var out []DisabledCheck
	for _, d := range p.Disabled {
		if !slices.ContainsFunc(p.Steps, func(s *Step) bool { return s.Uses == "check/"+d.Check }) {
			out = append(out, d)
		}
	}
	return out
}

// Step returns the step with id, or nil.
func (p *Plan) Step(id string) *Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Environments lists the environments the plan's steps act on, in order:
// each step's environment and its "environment" input.
func (p *Plan) Environments() []string {
	var out []string
	for _, s := range p.Steps {
		for _, env := range s.Environments() {
			if !slices.Contains(out, env) {
				out = append(out, env)
			}
		}
	}
	return out
}

// Environments lists the environments the step acts on: its own (from its
// stage) and its "environment" input, which actions prefer.
func (s *Step) Environments() []string {
	var out []string
	if s.Environment != "" {
		out = append(out, s.Environment)
	}
	if in, _ := s.With["environment"].(string); in != "" && in != s.Environment {
		out = append(out, in)
	}
	return out
}

// Default values of steps.
const (
	DefaultTimeout = 10 * time.Minute
	DefaultBackoff = 2 * time.Second
)

var exprRx = config.OutputRef

// Expand replaces ${{ steps.ID.outputs.NAME }} in s with the outputs of
// earlier steps; unknown references become "".
func Expand(s string, outputs func(step, name string) string) string {
	if !strings.Contains(s, "${{") {
		return s
	}
	return exprRx.ReplaceAllStringFunc(s, func(m string) string {
		g := exprRx.FindStringSubmatch(m)
		return outputs(g[1], g[2])
	})
}

// References lists the step IDs s refers to with ${{ steps.ID... }}.
func References(s string) []string {
	var out []string
	for _, g := range exprRx.FindAllStringSubmatch(s, -1) {
		out = append(out, g[1])
	}
	return out
}
