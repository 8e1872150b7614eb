package monitor

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// Guard verifies each activation and rolls back a release that fails:
// the app calls AfterActivate (or registers Listener with
// deploy.Service.OnActivate). On success it publishes deploy.succeeded
// with the production URLs; on failure it calls Rollback and publishes a
// critical deploy.rolled_back with the details, or deploy.failed when it
// cannot roll back. Every message also goes to OnEvent, for workflows.
//
// A verification whose context is cancelled (the server stopping; not its
// own Timeout) is interrupted: it publishes nothing and rolls nothing back.
// Nor does one whose deployment stopped being the environment's active
// one meanwhile (a rollback or a newer deploy superseded it): its verdict
// is about a release no longer served.
type Guard struct {
	Verifier  *Verifier
	Publisher Publisher // may be nil
	// Rollback takes back the failed release (reason: why verification
	// failed, one line) and returns the deployment now active; the app
	// passes deploy.Service.Revert, which also records the failure so no
	// later rollback returns to it.
	// facts are what verification measured (error rate, p95, failed
	// checks), for the alert the rollback owes.
	Rollback func(ctx context.Context, failed deploy.Release, reason string, facts []notify.Fact) (*deploy.Deployment, error)
	// Checks returns an environment's health checks and rollback policy
	// (environments.<env>.health_checks and .rollback in phoenix.yaml).
	Checks func(project, env string) ([]config.Endpoint, config.RollbackPolicy)
	// Active returns the id of the deployment project/env serves now (0:
	// none) and since when (its last activation; zero if unknown);
	// optional. Without it every verdict is acted on.
	Active  func(ctx context.Context, project, env string) (id int64, since time.Time, err error)
	OnEvent func(notify.Message) // optional
	Timeout time.Duration        // for one verification and rollback (default 5m)

	mu         sync.Mutex
	rollingTo  map[string]int64 // project/env -> deployment being restored
	inProgress sync.WaitGroup
}

// Outcome is what AfterActivate did.
type Outcome struct {
	Result     VerifyResult       `json:"result"`
	RolledBack *deploy.Deployment `json:"rolled_back_to,omitempty"`
	Message    notify.Message     `json:"message"`
	// Skipped says why nothing was published nor rolled back (Interrupted,
	// Superseded); "" when the verdict was acted on.
	Skipped string `json:"skipped,omitempty"`
}

// Why a verdict was not acted on (Outcome.Skipped).
// rollbackTimeout bounds an automatic rollback, which shutdown does not
// cut short.
const rollbackTimeout = 30 * time.Second

const (
	Interrupted = "interrupted" // the context was cancelled during verification
	Superseded  = "superseded"  // the deployment is no longer the active one
)

// Listener returns a deploy.Listener that verifies each activation in the
// background (listeners must not block the activating request).
func (g *Guard) Listener(ctx context.Context) deploy.Listener {
	return func(r deploy.Release) {
		g.inProgress.Add(1)
		go func() {
			defer g.inProgress.Done()
			_, _ = g.AfterActivate(ctx, r)
		}()
	}
}

// Wait blocks until background verifications end (for shutdown and tests).
func (g *Guard) Wait() { g.inProgress.Wait() }

// AfterActivate verifies r and acts on the verdict. A release that is
// itself the target of an automatic rollback is verified but never rolled
// back again, so a broken environment cannot loop. A verification cut
// short by ctx, or whose deployment is no longer active when it ends, is
// not acted on (Outcome.Skipped says why).
func (g *Guard) AfterActivate(ctx context.Context, r deploy.Release) (Outcome, error) {
	parent := ctx
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var checks []config.Endpoint
	policy := config.RollbackPolicy{Auto: true}
	if g.Checks != nil {
		checks, policy = g.Checks(r.Project, r.Environment)
	}
	key := r.Project + "/" + r.Environment
	// A restored release's check may have begun before a stop; then only
	// the database knows (Deployment.Restored).
	restoring := g.restoring(key, r.Deployment.ID) || r.Deployment.Restored
	out := Outcome{Result: g.Verifier.Verify(ctx, r.Environment, checks)}
	if out.Skipped = g.skip(parent, r); out.Skipped != "" {
		return out, nil
	}
	var err error
	switch {
	case out.Result.OK:
		out.Message = successMessage(r, out.Result)
	case policy.Auto && !restoring && g.Rollback != nil:
		// Once decided, the rollback runs to its end even if shutdown
		// begins meanwhile (the app waits for it): a half-decided one
		// would page "automatic rollback failed" for a healthy stop.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		out.RolledBack, err = g.rollback(rctx, key, r, out.Result)
		rcancel()
		out.Message = failureMessage(r, out.Result, out.RolledBack, err)
	default:
		out.Message = failureMessage(r, out.Result, nil, nil)
		if restoring {
			out.Message.Text += "\nThis release was itself restored by an automatic rollback; no further rollback was tried."
		}
	}
	g.emit(ctx, out.Message)
	return out, err
}

// restoring reports whether deployment id of key is the target of an
// automatic rollback (and forgets it: it is verified once).
func (g *Guard) restoring(key string, id int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	to, rolling := g.rollingTo[key]
	// -1: a rollback of this environment is in flight, so this activation is it.
	restoring := rolling && (to == id || to == -1)
	if restoring {
		delete(g.rollingTo, key)
	}
	return restoring
}

// skip says why a finished verification of r must not be acted on: ctx
// was cancelled (its verdict is the interruption's, not the release's),
// or r's activation is no longer the environment's: another deployment
// is active, or r was rolled away from and back to since (that
// activation has a verification of its own). "" means act on it. When the
// active deployment cannot be read, the verdict is acted on: a missed
// alert is worse than a stale one.
func (g *Guard) skip(ctx context.Context, r deploy.Release) string {
	if ctx.Err() != nil {
		return Interrupted
	}
	if g.Active == nil {
		return ""
	}
	id, since, err := g.Active(ctx, r.Project, r.Environment)
	switch {
	case err != nil:
		return ""
	case id != r.Deployment.ID:
		return Superseded
	case !since.IsZero() && r.Deployment.LiveSince != nil && !since.Equal(*r.Deployment.LiveSince):
		return Superseded
	}
	return ""
}

func (g *Guard) rollback(ctx context.Context, key string, r deploy.Release, res VerifyResult) (*deploy.Deployment, error) {
	// Register before the call: Rollback tells the listeners (us) at once.
	g.mu.Lock()
	if g.rollingTo == nil {
		g.rollingTo = map[string]int64{}
	}
	g.rollingTo[key] = -1
	g.mu.Unlock()
	d, err := g.Rollback(ctx, r, res.Reason, verifyFacts(res))
	g.mu.Lock()
	if err != nil || d == nil {
		delete(g.rollingTo, key)
	} else if to, ok := g.rollingTo[key]; ok && to == -1 {
		g.rollingTo[key] = d.ID // its listener has not run yet
	}
	g.mu.Unlock()
	return d, err
}

func (g *Guard) emit(ctx context.Context, m notify.Message) {
	if g.OnEvent != nil {
		g.OnEvent(m)
	}
	if g.Publisher != nil {
		_, _ = g.Publisher.Publish(context.WithoutCancel(ctx), m)
	}
}

func urls(r deploy.Release) []notify.Link {
	var out []notify.Link
	for _, d := range r.Domains {
		out = append(out, notify.Link{Title: d, URL: "https://" + d + "/"})
	}
	return out
}

// where names r's environment in a message title: "shop/staging", so a
// channel several projects share says whose staging it is.
func where(r deploy.Release) string {
	if r.Project == "" {
		return r.Environment
	}
	return r.Project + "/" + r.Environment
}

// countChecks counts n health checks in words: "1 health check", "2
// health checks".
func countChecks(n int) string {
	if n == 1 {
		return "1 health check"
	}
	return fmt.Sprintf("%d health checks", n)
}

func successMessage(r deploy.Release, res VerifyResult) notify.Message {
	return notify.Message{
		ID:    fmt.Sprintf("deploy-%d-succeeded", r.Deployment.ID),
		Event: "deploy.succeeded", Severity: notify.Informational,
		Title:   fmt.Sprintf("%s: %s is live", where(r), r.Deployment.Name()),
		Text:    fmt.Sprintf("%s passed over %s: %d requests, p95 %s.", countChecks(len(res.Checks)), config.FormatDuration(res.Duration.Round(time.Second)), res.Requests, res.P95.Round(time.Millisecond)),
		Project: r.Project, Environment: r.Environment, Links: urls(r), Time: time.Now().UTC(),
		Facts: []notify.Fact{{Name: "Release", Value: r.Deployment.Name()}, {Name: "Deployment", Value: strconv.FormatInt(r.Deployment.ID, 10)},
			{Name: "Error rate", Value: fmt.Sprintf("%.2f%%", res.ErrorRate)}, {Name: "p95", Value: res.P95.Round(time.Millisecond).String()}},
	}
}

// verifyFacts are what a failed verification measured, for its alert:
// the error rate, p95 and each failed check.
func verifyFacts(res VerifyResult) []notify.Fact {
	out := []notify.Fact{{Name: "Error rate", Value: fmt.Sprintf("%.2f%% of %d requests", res.ErrorRate, res.Requests)},
		{Name: "p95", Value: res.P95.Round(time.Millisecond).String()}}
	for _, c := range res.Checks {
		if !c.OK {
			out = append(out, notify.Fact{Name: "Check " + c.Name, Value: c.Error})
		}
	}
	return out
}

func failureMessage(r deploy.Release, res VerifyResult, to *deploy.Deployment, rbErr error) notify.Message {
	m := notify.Message{
		ID:    fmt.Sprintf("deploy-%d-failed", r.Deployment.ID),
		Event: "deploy.failed", Severity: notify.Critical,
		Title:   fmt.Sprintf("%s: %s failed verification", where(r), r.Deployment.Name()),
		Text:    res.Reason,
		Project: r.Project, Environment: r.Environment, Links: urls(r), Time: time.Now().UTC(),
		Facts: append([]notify.Fact{{Name: "Failed release", Value: r.Deployment.Name()},
			{Name: "Failed deployment", Value: strconv.FormatInt(r.Deployment.ID, 10)}}, verifyFacts(res)...),
	}
	switch {
	case to != nil:
		m.ID = fmt.Sprintf("deploy-%d-rolled-back", r.Deployment.ID)
		m.Event = "deploy.rolled_back"
		m.Title = fmt.Sprintf("%s: %s failed verification and was rolled back to %s", where(r), r.Deployment.Name(), to.Name())
		m.Facts = append(m.Facts, notify.Fact{Name: "Now serving", Value: fmt.Sprintf("%s (deployment %d)", to.Name(), to.ID)})
	case rbErr != nil:
		m.Title += "; automatic rollback failed"
		m.Facts = append(m.Facts, notify.Fact{Name: "Rollback", Value: rbErr.Error()})
	default:
		cmd := "phoenix rollback --env " + r.Environment
		if r.Project != "" {
			cmd = "phoenix rollback --project " + r.Project + " --env " + r.Environment
		}
		m.Facts = append(m.Facts, notify.Fact{Name: "Rollback", Value: "not automatic (rollback.auto is off): run " + cmd})
	}
	return m
}
