// Package pipeline runs releases and workflows: plans from package spec
// executed as a DAG (parallel where needs allow, conditions, timeouts,
// retries with backoff), each step a child process in its own process
// group or a built-in action, with logs stored per step, capped, masked and
// followable live.
//
// Run state lives in SQLite (or PostgreSQL): one release per environment
// at a time, later ones wait in a FIFO queue and are never silently
// cancelled; a run paused at an approval gate resumes when enough users
// other than the releaser approve. After a restart (or a failover between
// servers sharing the database) a run only waiting for an approval goes
// on waiting where it was (resume.go); a run that had a step running is
// marked interrupted and can be retried.
//
// Everything outside the engine comes in through interfaces (Deployer,
// SecretSource and Notifier from package action; Auditor; Clock), so tests
// run real child processes against a real database and no server.
package pipeline

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"github.com/phoenixvc/phoenix/internal/config"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("pipeline", migrationFiles)
}

// Clock is the engine's time source; tests use a fake one for approval
// timeouts and backoff.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// AuditEvent is a change the audit log records.
type AuditEvent struct {
	Action  string // pipeline.run.create, pipeline.run.succeeded, pipeline.approve, pipeline.webhook.denied, ...
	Target  string // project/run/ID, or the webhook name
	Actor   string
	Outcome string // "" (ok), Failed, Denied, Cancelled
	Detail  string // never a secret
}

// Auditor records audit events. tx is the transaction of the change when
// there is one (the record then commits with it), nil otherwise.
type Auditor func(ctx context.Context, tx *sql.Tx, e AuditEvent) error

// Options configures a Service.
type Options struct {
	DB      *store.DB
	LogDir  string           // step logs and run files: <LogDir>/<run id>/
	Actions *action.Registry // nil: action.Builtins(Deps)
	Deps    action.Deps      // for the built-in actions and step secrets
	Audit   Auditor          // nil: no audit
	Events  *trigger.Bus     // run outcomes are published here; event triggers subscribe here
	Clock   Clock
	Logger  *slog.Logger
	// Env is the base environment of child processes (default os.Environ()).
	Env []string
	// Hidden, when set, confines every process a step starts
	// (internal/sandbox, stepsandbox.go): it cannot reach these paths (the
	// data dir, the server's key files) but for its run's own folders.
	Hidden []string
	// Homes holds the HOME of each project's confined steps, used when the
	// server's own HOME is hidden or holds a hidden path.
	Homes string
	// LogCap is the largest stored log of one step (default 16 MiB).
	LogCap int64
	// MaxParallel caps the steps running at once across all runs (default 8).
	MaxParallel int
	// ApprovalTimeout fails a run whose approvals do not arrive in time (default 24h).
	ApprovalTimeout time.Duration
	// Backoff, when set, replaces every step's first retry delay (tests).
	Backoff time.Duration
	// Grace is the time between SIGTERM and SIGKILL of a step (default 5s).
	Grace time.Duration
	// Runner, when set, returns the API address other servers sharing the
	// database reach this one at; it is recorded on the runs this server
	// executes, so they can serve their logs (the step logs are files here).
	Runner func() string
	// CanApprove, when set, says whether actor may approve deployments to
	// env given the environment's approvers (roles or names).
	CanApprove func(ctx context.Context, actor, env string, approvers []string) bool
	// MinApprovals, when set, returns the approvals the server's stored
	// environment requires (0 for one it does not know). A release's gate
	// asks for at least that many whatever its phoenix.yaml says, so a
	// release cannot lower the approvals that gate it.
	MinApprovals func(ctx context.Context, project, env string) (int, error)
	// Preflight, when set, checks a release's plan before it is queued
	// (the server: a plan that deploys needs the artifact signing key); an
	// error refuses the release, so nothing runs and nothing alerts.
	Preflight func(ctx context.Context, plan *spec.Plan) error
	// Retention says which finished runs Prune deletes (prune.go).
	Retention Retention
	// OnRelease, when set, is called with a release's run and phoenix.yaml
	// once the run is recorded, before this server may start it: the
	// server takes the project's notification channels (and probes, rules
	// and health checks) from it, so a first release that fails before
	// deploying anything still reaches the channels it names.
	OnRelease func(run *Run, cfg *config.Config)
	// OnFinish, when set, is called after a run finished (its outcome
	// recorded) with its status, on the run's goroutine: the server
	// schedules a Prune, and looks for a deployment the run left
	// unverified (HealthCheck.Unverified).
	OnFinish func(status string)
	// Transient: the server lives for one command (a CLI command's
	// in-process server). It does not resume the runs left waiting for an
	// approval, whose next steps it would cut short as the command ends:
	// it holds their queue keys and leaves them to the next lasting server
	// (approvals and cancels given meanwhile are recorded for it).
	Transient bool
}

// Service is the pipeline domain.
type Service struct {
	opts  Options
	log   *slog.Logger
	sem   chan struct{}
	hub   *hub
	sched *trigger.Scheduler

	mu       sync.Mutex
	active   map[int64]*execution // runs executing now
	busy     map[string]int64     // queue key -> run holding it
	hooks    map[string]webhook   // "project/workflow" -> webhook trigger
	unsubs   map[string][]func()  // project -> event subscriptions
	known    map[string]string    // project -> registration time this server loaded
	stopping bool
	leading  bool           // this server executes runs (Lead)
	wg       sync.WaitGroup // the scheduler of Start
	runs     sync.WaitGroup // executing runs
	stop     context.CancelFunc
	pruneMu  sync.Mutex // one Prune or SweepFolders at a time
	denials  denialGate // which refused webhook deliveries are audited (denials.go)
}

// New returns a Service; call Start before use.
func New(opts Options) (*Service, error) {
	if opts.DB == nil || opts.LogDir == "" {
		return nil, errors.New("pipeline: DB and LogDir are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Actions == nil {
		opts.Actions = action.Builtins(opts.Deps)
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.LogCap <= 0 {
		opts.LogCap = executor.DefaultLogCap
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = 8
	}
	if opts.ApprovalTimeout <= 0 {
		opts.ApprovalTimeout = 24 * time.Hour
	}
	if opts.Events == nil {
		opts.Events = trigger.NewBus()
	}
	if err := os.MkdirAll(opts.LogDir, 0o700); err != nil {
		return nil, err
	}
	s := &Service{opts: opts, log: opts.Logger, sem: make(chan struct{}, opts.MaxParallel), hub: newHub(),
		active: map[int64]*execution{}, busy: map[string]int64{}, hooks: map[string]webhook{}, unsubs: map[string][]func(){},
		known: map[string]string{}}
	s.sched = trigger.NewScheduler(s, opts.Clock)
	if !opts.Actions.Known("release") {
		opts.Actions.Register("release", action.Func(s.releaseAction))
	}
	return s, nil
}

// Actions is the registry of actions; register project actions here.
func (s *Service) Actions() *action.Registry { return s.opts.Actions }

// Events is the bus run outcomes are published on.
func (s *Service) Events() *trigger.Bus { return s.opts.Events }

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC() }

func (s *Service) runDir(id int64) string {
	return filepath.Join(s.opts.LogDir, itoa(id))
}

func (s *Service) audit(ctx context.Context, tx *sql.Tx, e AuditEvent) error {
	if s.opts.Audit == nil {
		return nil
	}
	return s.opts.Audit(ctx, tx, e)
}

// Start recovers from the previous process and leads until Stop: the one
// server of its database. It is Open, then Lead in the background.
func (s *Service) Start(ctx context.Context) error {
	if err := s.recover(ctx); err != nil {
		return err
	}
	s.Open(ctx)
	bg, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.lead(bg)
	}()
	return nil
}

// Open registers the workflows of the projects known from earlier
// releases (webhooks and event triggers work on every server; schedules
// fire on the leader only). A server that shares its database calls Open
// at start and Lead while it leads.
func (s *Service) Open(ctx context.Context) { s.loadProjects(ctx) }

// Lead executes runs until ctx ends: it resumes the runs a previous
// leader left waiting for an approval, marks those it left with a step
// running as interrupted, fires the cron schedules and executes queued
// runs (whichever server queued them). When ctx ends it interrupts the
// runs it executes (retry them later; a run waiting for an approval stays
// waiting, for the next leader) and returns after they finished. Only one server per database may lead at a time
// (store.DB.Lead).
func (s *Service) Lead(ctx context.Context) error {
	if err := s.recover(ctx); err != nil {
		return err
	}
	s.loadProjects(ctx) // the schedules' last ticks as the previous leader left them
	s.lead(ctx)
	return nil
}

func (s *Service) lead(ctx context.Context) {
	s.mu.Lock()
	s.leading = true
	s.mu.Unlock()
	s.dispatch()
	s.sched.Run(ctx)
	s.mu.Lock()
	s.leading = false
	for _, e := range s.active {
		e.cancel(errShutdown)
	}
	s.mu.Unlock()
	s.runs.Wait()
}

// Stop cancels the scheduler and every executing run (they become
// interrupted, not cancelled: retry them later; one only waiting for an
// approval stays waiting, for the next start to resume) and waits for them.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	for _, e := range s.active {
		e.cancel(errShutdown)
	}
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errShutdown = errors.New("the server is stopping")

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
