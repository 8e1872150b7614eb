package pipeline

import (
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// Run statuses.
const (
	Queued      = "queued"
	Running     = "running"
	Waiting     = "waiting" // for approvals
	Succeeded   = "succeeded"
	Failed      = "failed"
	Cancelled   = "cancelled"
	Interrupted = "interrupted" // the server stopped while it ran; retry it
	Skipped     = "skipped"     // steps only: their condition was false
	Pending     = "pending"     // steps only: not started yet
)

// RunStatuses are the statuses a run can be in, in the order of its life:
// what a list of runs may be filtered by.
var RunStatuses = []string{Queued, Running, Waiting, Succeeded, Failed, Cancelled, Interrupted}

// Finished reports whether a run or step status is final.
func Finished(status string) bool {
	switch status {
	case Succeeded, Failed, Cancelled, Interrupted, Skipped:
		return true
	}
	return false
}

// Run is one execution of a plan.
type Run struct {
	ID           int64      `json:"id"`
	Project      string     `json:"project"`
	Kind         string     `json:"kind"`               // release or workflow
	Workflow     string     `json:"workflow,omitempty"` // workflow name
	Version      string     `json:"version,omitempty"`
	Environments []string   `json:"environments,omitempty"` // released to; as listed and shown, every one it acts on (shown)
	Commit       string     `json:"commit,omitempty"`
	Actor        string     `json:"actor,omitempty"`
	Trigger      string     `json:"trigger"` // release, retry, cron, webhook, event, manual
	Dir          string     `json:"dir"`
	Checkout     bool       `json:"checkout,omitempty"` // built in a clean checkout of Commit, not in Dir (checkout.go)
	Status       string     `json:"status"`
	Message      string     `json:"message,omitempty"`
	RetryOf      int64      `json:"retry_of,omitempty"`
	Created      time.Time  `json:"created_at"`
	Started      time.Time  `json:"started_at,omitzero"`
	Finished     time.Time  `json:"finished_at,omitzero"`
	Plan         *spec.Plan `json:"plan,omitempty"`
	Inputs       Inputs     `json:"inputs,omitzero"`

	keys []string
	// planEnvs are the environments the plan's steps act on, kept when
	// the plan is left out of a listing (dropPlan).
	planEnvs []string
}

// ActsOn lists every environment the run acts on: those it was released
// to, those its steps name (a stage's environment, a with: environment)
// and that of the Phoenix event that started a workflow (its notify steps
// speak of it). A run that acts on none only builds or tests. Cancelling
// or retrying a run needs deploy on each of them; seeing it, read on each
// (VisibleWith).
func (r *Run) ActsOn() []string {
	envs := slices.Clone(r.Environments)
	add := func(env string) {
		if env != "" && !slices.Contains(envs, env) {
			envs = append(envs, env)
		}
	}
	planEnvs := r.planEnvs
	if r.Plan != nil {
		planEnvs = r.Plan.Environments()
	}
	for _, env := range planEnvs {
		add(env)
	}
	if ev := triggerEvent(r.Inputs); ev != nil {
		add(ev.Environment)
	}
	return envs
}

// VisibleWith reports whether someone who may read what canRead allows
// may see the run, its steps and its logs: every environment it acts on,
// or the project ("") when it acts on none. A caller limited to staging
// does not see a run that also deploys to production.
func (r *Run) VisibleWith(canRead func(env string) bool) bool {
	envs := r.ActsOn()
	if len(envs) == 0 {
		return canRead("")
	}
	for _, env := range envs {
		if !canRead(env) {
			return false
		}
	}
	return true
}

// shown readies the run to be listed or shown: its environments become
// every one it acts on. A workflow was released to none, yet one that a
// deployment to production started, or whose steps check staging, acts
// on those, and phoenix runs said "-".
func (r *Run) shown() { r.Environments = r.ActsOn() }

// dropPlan leaves the plan out (lists do), keeping what ActsOn needs of it.
func (r *Run) dropPlan() {
	if r.Plan != nil {
		r.planEnvs, r.Plan = r.Plan.Environments(), nil
	}
}

// Inputs are what a trigger handed the run. Event is the Phoenix event
// that started it (trigger event: then Environment is that event's), or
// the webhook's own event name (X-GitHub-Event: then Webhook is set).
type Inputs struct {
	Event       string            `json:"event,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Ref         string            `json:"ref,omitempty"`
	Tag         string            `json:"tag,omitempty"`
	Values      map[string]string `json:"values,omitempty"`
	Webhook     string            `json:"webhook,omitempty"`
}

// Step is the state of one step of a run.
type Step struct {
	ID       string            `json:"id"`
	Status   string            `json:"status"`
	Attempts int               `json:"attempts"`
	ExitCode int               `json:"exit_code,omitempty"`
	Error    string            `json:"error,omitempty"`
	Outputs  map[string]string `json:"outputs,omitempty"`
	LogBytes int64             `json:"log_bytes"`
	Started  time.Time         `json:"started_at,omitzero"`
	Finished time.Time         `json:"finished_at,omitzero"`
}

// Approval is one decision on a run's approval gate.
type Approval struct {
	Environment string    `json:"environment"`
	Actor       string    `json:"actor"`
	Decision    string    `json:"decision"` // approve or reject
	Comment     string    `json:"comment,omitempty"`
	At          time.Time `json:"at"`
}

// RunDetail is a run with its steps and approvals.
type RunDetail struct {
	Run
	Steps     []Step     `json:"steps"`
	Approvals []Approval `json:"approvals,omitempty"`
}

// RunFilter selects runs.
type RunFilter struct {
	Project string
	Status  string
	Limit   int // default 50, at most 1001 (a page of 1000, and one more that tells a next page is there)
	// Before, when set, lists only runs older than this id: where the
	// previous page ended.
	Before int64
	// Keep, when set, leaves out the runs it refuses (those a caller may
	// not see); it gets each run with its plan. The list still holds Limit
	// runs when there are that many to keep.
	Keep func(*Run) bool
}
