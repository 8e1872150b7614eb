package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/config"
)

// Deps is what the built-in actions need from outside the pipeline.
type Deps struct {
	Deployer    Deployer        // deploy and rollback; required for those actions
	Secrets     SecretSource    // fetch-secrets and step secrets; nil: none available
	Notifier    Notifier        // notify; nil: NopNotifier
	Backups     Backuper        // backup and backup/verify; nil: those actions fail
	Blobs       backend.Backend // where create-artifact stores blobs
	AdvisoryDir string          // OSV database for check/audit
	ToolsDir    string          // cache of package managers installed through npm
	HTTP        *http.Client    // health checks; nil: a client that resolves *.localhost to loopback
	// EnvURL is the base URL an environment is served at, for health
	// checks written as paths (e.g. http://production.shop.localhost:8080/).
	EnvURL func(project, env string) string
	// EnvHeaders are sent with the health checks written as paths, which
	// go to the server's own edge (its probe marker, so an environment's
	// allow-list or rate limit does not fail them).
	EnvHeaders map[string]string
	// HealthInterval is the pause between health-check attempts (default 1s).
	HealthInterval time.Duration
	Now            func() time.Time
}

// SecretSource resolves secret names to values. The vault implements it;
// until then EnvSecrets and FileSecrets do.
type SecretSource interface {
	Secret(ctx context.Context, name string) (string, error)
}

// secret fetches secret name for the action running in sc: through the
// engine (sc.Secret), which masks it and masks it again after a resume,
// else (an action run outside the engine) from d.Secrets, masked with
// sc.Mask as written and trimmed. Callers check d.Secrets first, to say
// in their own words that no source is configured.
func (d *Deps) secret(ctx context.Context, sc *Context, name string) (string, error) {
	if sc.Secret != nil {
		return sc.Secret(ctx, name)
	}
	v, err := d.Secrets.Secret(ctx, name)
	if err == nil && sc.Mask != nil {
		sc.Mask(v)
		sc.Mask(strings.TrimSpace(v))
	}
	return v, err
}

// ErrNoSecret is wrapped by sources that do not have a secret.
var ErrNoSecret = errors.New("secret not found")

// ErrProductionOnly is wrapped by sources that keep a production secret
// from a run that does not deploy to production.
var ErrProductionOnly = errors.New("a production secret, read only by production runs")

var secretNameRx = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// EnvSecrets reads secrets from environment variables, optionally with a
// prefix (PHOENIX_SECRET_ makes NAME come from PHOENIX_SECRET_NAME).
type EnvSecrets struct{ Prefix string }

// Secret returns the variable's value.
func (e EnvSecrets) Secret(_ context.Context, name string) (string, error) {
	if !secretNameRx.MatchString(name) {
		return "", fmt.Errorf("secret name %q: use letters, digits and _", name)
	}
	v, ok := os.LookupEnv(e.Prefix + name)
	if !ok {
		return "", fmt.Errorf("%w: %s (set the environment variable %s%s)", ErrNoSecret, name, e.Prefix, name)
	}
	return v, nil
}

// FileSecrets reads each secret from a file named after it in Dir (as
// mounted by Docker or Kubernetes secrets); one trailing newline is dropped.
type FileSecrets struct{ Dir string }

// Secret returns the file's content.
func (f FileSecrets) Secret(_ context.Context, name string) (string, error) {
	if !secretNameRx.MatchString(name) {
		return "", fmt.Errorf("secret name %q: use letters, digits and _", name)
	}
	b, err := os.ReadFile(filepath.Join(f.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s (no file %s)", ErrNoSecret, name, filepath.Join(f.Dir, name))
	}
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// Chain tries each source in turn; the first that has the secret wins.
type Chain []SecretSource

// Secret asks each source.
func (c Chain) Secret(ctx context.Context, name string) (string, error) {
	var errs []error
	for _, s := range c {
		v, err := s.Secret(ctx, name)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
		if !errors.Is(err, ErrNoSecret) {
			break
		}
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("%w: %s (no secret source configured)", ErrNoSecret, name)
	}
	return "", errors.Join(errs...)
}

// Notification is a message about a run.
type Notification struct {
	Event       string // release.succeeded, release.failed, deploy.failed, approval.requested, ...
	Project     string
	Environment string
	Run         string
	Version     string
	Channel     string // "" means every channel subscribed to Event
	Severity    int    // 0 critical ... 4 verbose
	Message     string // the title
	Text        string // the body: what failed and how, for a failure
	// Environments are those a release went to, for release.succeeded:
	// the message links their public addresses.
	Environments []string
}

// Notifier delivers notifications (Teams, Slack, email: the notifications
// domain implements it).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotDelivered is a Notifier's error when no channel takes a
// notification; Reason says why (no channel configured, none subscribed
// to the event, the channels did not load). The notify step logs it and
// does not fail: a release is not undone for want of an announcement.
type NotDelivered struct{ Reason string }

func (e *NotDelivered) Error() string { return "not delivered: " + e.Reason }

// NopNotifier drops notifications.
type NopNotifier struct{}

// Notify drops n.
func (NopNotifier) Notify(context.Context, Notification) error {
	return &NotDelivered{Reason: "this run has no notification channels"}
}

// LogNotifier writes notifications to a logger.
type LogNotifier struct{ Logger *slog.Logger }

// Notify logs n.
func (l LogNotifier) Notify(_ context.Context, n Notification) error {
	l.Logger.Info("notification", "event", n.Event, "project", n.Project, "env", n.Environment,
		"run", n.Run, "version", n.Version, "severity", n.Severity, "message", n.Message)
	return nil
}

// DeployRequest puts an artifact live on an environment.
type DeployRequest struct {
	Project     string
	Environment string
	Manifest    []byte // canonical manifest JSON; its blobs are in Deps.Blobs
	Release     string
	Actor       string
	Message     string
	Run         string // the run deploying (deploy.FinalizeOptions.Run)
	// ApprovalsGiven is how many distinct approvals the run's gate for the
	// environment collected; the deployment needs as many as the stored
	// environment requires.
	ApprovalsGiven int
	// Declared environment settings from phoenix.yaml; without Declared
	// (the environment is not in phoenix.yaml) an existing environment
	// keeps the settings it has.
	Declared  bool
	Locked    bool
	Approvals int
	Domains   []string
	IPAllow   []string // client ranges allowed in; empty allows everyone
	// PromoteFrom is the environment an artifact must have run on before
	// it is deployed here; a release sets it only where none is stored.
	PromoteFrom string
	// RunChecks: the run has health-check steps acting on the
	// environment, which verify the deployment (deploy.FinalizeOptions).
	RunChecks bool
	// RunDeployed, when set, reports whether the run deployed to an
	// environment. An environment that promotes from one the run did not
	// deploy to gets the artifact that one ran of Release, not the run's
	// own build (which is another artifact: its manifest records when and
	// by which run it was built); DeployResult.Promoted says so.
	RunDeployed func(env string) bool
	// Edge is the project's edge: section (header rules, rate limit,
	// firewall), stored as the project's edge policy before activation;
	// an empty one clears it, nil (no phoenix.yaml) leaves it as it is.
	Edge *config.Edge
}

// DeployResult is the deployment made.
type DeployResult struct {
	ID       int64
	Artifact string
	Release  string
	// Promoted is set when the artifact deployed is the one the
	// environment promotes from ran, instead of the run's build.
	Promoted *Promotion
}

// Promotion is an artifact an environment ran, deployed to the one that
// promotes from it instead of a run's own build of the same release.
type Promotion struct {
	From       string // the environment it ran on
	Deployment int64  // its deployment there
	Artifact   string // its digest
	Built      string // the digest of the run's build, not deployed
	SameFiles  bool   // the run's build has the same files
}

// Deployer puts releases live and takes them back. DeployService
// implements it with internal/deploy.
type Deployer interface {
	Deploy(ctx context.Context, r DeployRequest) (*DeployResult, error)
	// Rollback takes back a deployment that failed in the run: it records
	// the failure on it (so no later rollback returns to it) and, while it
	// is active, re-activates the newest earlier one that passed
	// verification (else that did not fail);
	// with r.Keep it only records that it failed verification, and returns
	// it.
	Rollback(ctx context.Context, r RollbackRequest) (*DeployResult, error)
}

// RollbackRequest names the deployment a run takes back and why.
type RollbackRequest struct {
	Project     string
	Environment string
	Failed      int64  // the deployment the run made; 0 means the active one
	Reason      string // the run's failed steps, e.g. "health-check/production"
	Actor       string
	// Keep: the environment's rollback.auto is off; the failure is
	// recorded and the deployment stays live.
	Keep bool
}

// RunVerifier is implemented by Deployers that record the verdict of a
// run's health checks on the deployment the run made (DeployService):
// RunPassed marks deployment id of project's env, made by run, verified,
// while it is still live there; false when it no longer is.
type RunVerifier interface {
	RunPassed(ctx context.Context, project, env string, id int64, run string) (bool, error)
}

// Holder is implemented by Deployers that can keep an artifact's blobs from
// garbage collection between create-artifact and the run's deploys (an
// approval gate may wait hours). Hold records the manifest as an open
// upload of project (kept as long as the deployments domain keeps uploads,
// 24h by default, and renewed by each deploy) and returns how many of its
// blobs the store lacks.
type Holder interface {
	Hold(ctx context.Context, project string, manifest []byte) (missing int, err error)
}
