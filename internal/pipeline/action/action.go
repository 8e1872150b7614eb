// Package action is the one registry of the pipeline's built-in actions,
// the steps a plan names with uses: validate-tag, install, build, test,
// test-report, check/audit, check/licenses, check/secrets, check/sbom,
// fetch-secrets, create-artifact, deploy, purge-cache, monitoring, register-workflows,
// health-check, load-test, notify, rollback, backup, backup/verify and
// dns/update. The pipeline adds release (a workflow starting a release),
// which needs the pipeline itself.
// Projects replace or add actions by registering under a name.
//
// Actions that run tools (build, test) run them as child processes through
// Context.Exec, so they are killed with their process group on timeout or
// cancel and their output is masked and capped like any run: step. Actions
// reach everything outside the pipeline through small interfaces
// (Deployer, SecretSource, Notifier), so tests need no server. A secret
// an action fetches itself goes through Context.Secret, so the engine
// masks it for the rest of the run, resumed after a restart or not.
package action

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// Action is one built-in step.
type Action interface {
	Run(ctx context.Context, sc *Context) error
}

// Func adapts a function to Action.
type Func func(ctx context.Context, sc *Context) error

// Run calls f.
func (f Func) Run(ctx context.Context, sc *Context) error { return f(ctx, sc) }

// RunInfo describes the run a step belongs to.
type RunInfo struct {
	ID           string
	Project      string
	Version      string // release version as given, e.g. v1.4.2
	Commit       string
	Actor        string
	Trigger      string // release, retry, cron, webhook, event
	Environments []string
	// Released are the project's successful releases, newest first
	// (release runs only): validate-tag's tag must be greater than the
	// first's version, unless it promotes an earlier one.
	Released []Released
	// Environment is the one the current step acts on ("" when the step
	// serves the whole run, e.g. fetching secrets for several targets).
	Environment string
	// Event is the event that started a workflow run (trigger event, and
	// that run's retries); nil otherwise.
	Event *Event
	// Folder is the project folder on the server's disk, as the run was
	// asked for: not the run's checkout, which Context.Dir may be.
	Folder string
	// Workflow is the workflow a run is of, "" for a release.
	Workflow string
}

// Released is a successful release of a project: its version and the
// environments it went to.
type Released struct {
	Version      string
	Environments []string
}

// Event is a Phoenix event as a workflow's trigger received it.
type Event struct {
	Name        string            // e.g. deploy.succeeded
	Environment string            // "" for events of no environment
	Data        map[string]string // e.g. run, version, status
}

type runKey struct{}

// WithRun returns ctx carrying the run a step belongs to, so sources the
// step calls (secrets above all) know who asks.
func WithRun(ctx context.Context, r RunInfo) context.Context {
	return context.WithValue(ctx, runKey{}, r)
}

// RunFrom returns the run ctx carries, if any.
func RunFrom(ctx context.Context) (RunInfo, bool) {
	r, ok := ctx.Value(runKey{}).(RunInfo)
	return r, ok
}

// Context is what an action gets from the engine.
type Context struct {
	Run     RunInfo
	Step    *spec.Step
	With    map[string]any // inputs, with ${{ ... }} expanded
	Dir     string         // project root, absolute
	WorkDir string         // where the step runs: Dir joined with the step's dir
	Files   string         // the run's shared folder for files handed between steps
	Env     []string       // the step's complete environment for child processes
	Config  *config.Config
	Log     io.Writer // masked and capped step log

	// Exec runs a child process; Dir and Env default to WorkDir and Env,
	// Output to Log, and the step's deadline applies.
	Exec func(ctx context.Context, c executor.Cmd) error
	// Confine is the step's sandbox with open also changeable (a package
	// manager's install prefix under Deps.ToolsDir), nil when steps are
	// not confined; Exec confines by the step's alone when c.Sandbox is
	// nil. Use Sandbox, which allows for an unset Confine.
	Confine func(open ...string) *sandbox.Policy
	// SetOutput records an output of this step for later steps.
	SetOutput func(name, value string)
	// Output returns an output of an earlier step, "" when unset.
	Output func(step, name string) string
	// Status returns how an earlier step ended (succeeded, failed, skipped, ...).
	Status func(step string) string
	// Mask hides a value (a fetched secret) from every log of the run.
	Mask func(value string)
	// Secret fetches secret name from the server's secret source for this
	// step and masks it (as written and trimmed of surrounding space) in
	// every later log of the run. The engine records the name, never the
	// value, against the step, so a run resumed after a restart or on
	// another server masks it again. A value too short to mask is
	// returned unmasked: the action refuses it. Nil outside the engine
	// (tests of one action): Deps.Secrets and Mask serve instead.
	Secret func(ctx context.Context, name string) (string, error)
	// Secrets returns the secret values the run has resolved so far (a
	// step's secrets and secret:NAME values, build.env's, what actions
	// fetched), for check/secrets to find them written into files. Nil
	// outside the engine.
	Secrets func() []string
	// Approvals returns how many distinct approvals env's gate collected
	// in this run (0 without a gate); the deployment needs as many as the
	// server's environment requires.
	Approvals func(env string) int
	// Deployed reports whether this run activated a release on env.
	Deployed func(env string) bool
	// Deployment returns the deployment this run's deploy step made on
	// env, 0 when none (or unknown).
	Deployment func(env string) int64
	// Checks reports whether the run has health-check steps acting on
	// env: its deployment there is then verified by them, not the server.
	// Nil: none.
	Checks func(env string) bool
	// HealthChecked is called by a health-check step of env that passed:
	// once every health-check step of the run acting on env has, the
	// deployment the run made there is recorded as verified (RunVerifier),
	// so it counts for promote_from. Nil outside the engine.
	HealthChecked func(ctx context.Context, env string) error
	// Failed lists the steps this one depends on that failed, in plan
	// order (what a failure() step runs because of).
	Failed func() []*spec.Step
	// Why returns how a finished step failed: its error and the last
	// lines of its log, secrets masked ("" when unknown).
	Why func(step string) string
}

// Logf writes a line to the step log.
func (sc *Context) Logf(format string, args ...any) {
	fmt.Fprintf(sc.Log, format+"\n", args...)
}

// String returns input name as a string ("" when unset).
func (sc *Context) String(name string) string {
	switch v := sc.With[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// Int returns input name as an int, or def.
func (sc *Context) Int(name string, def int) int {
	switch v := sc.With[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// Strings returns input name as a list of strings.
func (sc *Context) Strings(name string) []string {
	switch v := sc.With[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	case string:
		if v != "" {
			return []string{v}
		}
	}
	return nil
}

// Environment returns the environment the step acts on: input
// "environment", else the step's, else the run's only one.
func (sc *Context) Environment() string {
	if e := sc.String("environment"); e != "" {
		return e
	}
	if sc.Step != nil && sc.Step.Environment != "" {
		return sc.Step.Environment
	}
	if len(sc.Run.Environments) == 1 {
		return sc.Run.Environments[0]
	}
	return ""
}

// Registry maps action names to actions. It is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Action
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Action{}} }

// Register adds a or replaces the action called name.
func (r *Registry) Register(name string, a Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[name] = a
}

// Lookup returns the action called name.
func (r *Registry) Lookup(name string) (Action, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.m[name]
	return a, ok
}

// Known reports whether name is registered (for spec.Validate).
func (r *Registry) Known(name string) bool {
	_, ok := r.Lookup(name)
	return ok
}

// Names lists the registered actions, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Builtins returns a registry of every built-in action using d.
func Builtins(d Deps) *Registry {
	d.defaults()
	r := NewRegistry()
	for name, a := range map[string]Action{
		"validate-tag":       Func(validateTag),
		"build":              Func(d.build),
		"install":            Func(d.install),
		"test":               Func(d.runTests),
		"test-report":        Func(testReport),
		"check/audit":        named("audit", d.checkAudit),
		"check/licenses":     named("licenses", d.checkLicenses),
		"check/secrets":      named("secrets", d.checkSecrets),
		"check/sbom":         named("sbom", d.checkSBOM),
		"fetch-secrets":      Func(d.fetchSecrets),
		"create-artifact":    Func(d.createArtifact),
		"deploy":             Func(d.deploy),
		"rollback":           Func(d.rollback),
		"health-check":       Func(d.healthCheck),
		"notify":             Func(d.notify),
		"backup":             Func(d.backup),
		"backup/verify":      Func(d.backupVerify),
		"dns/update":         Func(d.dnsUpdate),
		"load-test":          Func(d.loadTest),
		"purge-cache":        note("the edge swaps releases atomically and keys its cache by release: nothing to purge"),
		"monitoring":         note("monitoring config is read from phoenix.yaml by the monitor; nothing to apply"),
		"register-workflows": note("workflows are registered from phoenix.yaml when the release starts"),
	} {
		r.Register(name, a)
	}
	return r
}

// note is an action that only logs why it has nothing to do.
func note(msg string) Action {
	return Func(func(_ context.Context, sc *Context) error {
		sc.Logf("%s", msg)
		return nil
	})
}

func (d *Deps) defaults() {
	if d.Notifier == nil {
		d.Notifier = NopNotifier{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
}

// Sandbox is the step's sandbox allowing open to be changed too (see
// Confine), nil when steps are not confined.
func (c *Context) Sandbox(open ...string) *sandbox.Policy {
	if c.Confine == nil {
		return nil
	}
	return c.Confine(open...)
}
