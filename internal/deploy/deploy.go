// Package deploy owns projects, environments and deployments: uploads that
// send only the blobs the server lacks, verified and signed artifacts,
// activation as an atomic pointer swap in the store, O(1) rollback, and
// retention that garbage-collects blobs no retained release needs.
//
// The active deployment of an environment is one column
// (environments.active_id) changed in one transaction together with the
// deployment row and its event, so a crash at any moment leaves either the
// old release or the new one active, never a mix. Listeners (the edge) are
// told after the commit; at start the app loads every active release.
package deploy

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("deploy", migrationFiles)
}

// Release is what an environment serves: a deployment and its manifest.
type Release struct {
	Project     string
	Environment string
	Domains     []string
	IPAllow     []string // CIDR prefixes; empty allows everyone
	Deployment  Deployment

	manifest *artifact.Manifest
	load     func() (*artifact.Manifest, error)
}

// Manifest returns the release's manifest, loading it from the store on
// first use (a rollback to a release the edge still has indexed never
// needs it).
func (r *Release) Manifest() (*artifact.Manifest, error) {
	if r.manifest == nil && r.load != nil {
		m, err := r.load()
		if err != nil {
			return nil, err
		}
		r.manifest = m
	}
	if r.manifest == nil {
		return nil, fmt.Errorf("deploy: release %s/%s has no manifest", r.Project, r.Environment)
	}
	return r.manifest, nil
}

// Listener is told about every activation, after it is durable. It must
// not block for long; it runs on the activating goroutine.
type Listener func(Release)

// Options configures a Service.
type Options struct {
	DB    *store.DB
	Blobs backend.Backend
	Key   sign.PrivateKey // signs every artifact the server records
	// KeySource, when set, is asked for the signing key at each Finalize
	// instead of Key (the key lives in the vault, which may be sealed).
	KeySource func(ctx context.Context) (sign.PrivateKey, error)
	Logger    *slog.Logger
	Now       func() time.Time
	Keep      int           // deployments kept per environment (default 20)
	UploadTTL time.Duration // how long an upload may stay open (default 24h)
	// Check, when set, validates a release before it is activated (the app
	// checks its staticwebapp.config.json); an error refuses the deploy.
	Check func(ctx context.Context, r Release) error
	// Audit, when set, is called inside the transaction of every change
	// (activation, rollback, environment saved or deleted, retention), so
	// a change and its audit record commit together; an error from it
	// aborts the change.
	Audit func(ctx context.Context, tx *sql.Tx, e Event) error
	// CheckEdge, when set, is asked whether the edge can apply a new
	// edge policy before SetEdgePolicy stores it (the app builds it: a
	// firewall this server lacks refuses it); an error refuses the change.
	CheckEdge func(ctx context.Context, project string, e *config.Edge) error
	// Verify, when set, says whether the server verifies a new deployment
	// of project after its activation (the app verifies every deployment
	// but a pipeline run's): the deployment is then recorded pending
	// verification in the activation's transaction (see Unverified).
	Verify func(project string, o FinalizeOptions) bool
	// SitesDomain, when set, is the domain under which every environment
	// answers at <env>.<project>.<SitesDomain> (normalized: lower case, no
	// trailing dot); no custom domain may be under it.
	SitesDomain string
	// Previews, when set, is a project's preview policy (the app reads it
	// from the project's phoenix.yaml); nil leaves previews unrestricted.
	Previews func(ctx context.Context, project string) PreviewPolicy
}

// Event describes a change for the audit log.
type Event struct {
	Action      string // deploy.activate, deploy.rollback, deploy.fail, deploy.reverify, env.save, env.delete, edge.save, deploy.gc
	Project     string
	Environment string
	Deployment  int64
	Actor       string // as given by the caller; "" lets the audit hook take it from the context
	Detail      string
}

func (s *Service) audit(ctx context.Context, tx *sql.Tx, e Event) error {
	if s.opts.Audit == nil {
		return nil
	}
	if err := s.opts.Audit(ctx, tx, e); err != nil {
		return fmt.Errorf("deploy: audit %s: %w", e.Action, err)
	}
	return nil
}

// Service is the deployments domain.
type Service struct {
	opts Options
	// gc excludes blob deletion from the window between an upload's
	// missing-blob check and its finalization.
	gc sync.RWMutex
	// holds excludes blob deletion while a backup copies the store
	// (HoldBlobs); taken before gc, so uploads never wait for a backup.
	holds           sync.RWMutex
	mu              sync.Mutex
	listeners       []Listener
	policyListeners []PolicyListener
	deleteListeners []DeleteListener
	rollbackHeard   []RollbackListener // rollback.go
	blobsDeleted    []func()
}

// New returns a Service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Keep <= 0 {
		opts.Keep = 20
	}
	if opts.UploadTTL <= 0 {
		opts.UploadTTL = 24 * time.Hour
	}
	return &Service{opts: opts}
}

// OnActivate registers l for every later activation.
func (s *Service) OnActivate(l Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, l)
}

// DeleteListener is told of an environment deleted, once the deletion
// has committed, so the edge stops serving it.
type DeleteListener func(project, env string)

// OnEnvDelete registers l for every later deletion of an environment.
func (s *Service) OnEnvDelete(l DeleteListener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteListeners = append(s.deleteListeners, l)
}

// OnBlobsDeleted registers l for every later garbage collection that
// deleted blobs from the store, once it is done.
func (s *Service) OnBlobsDeleted(l func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobsDeleted = append(s.blobsDeleted, l)
}

func (s *Service) notify(r Release) {
	for _, l := range listenersOf(s, &s.listeners) {
		l(r)
	}
}

// listenersOf copies a list of listeners under s.mu.
func listenersOf[L any](s *Service, ls *[]L) []L {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(*ls)
}

// signingKey returns the key that signs the artifacts this service records.
func (s *Service) signingKey(ctx context.Context) (sign.PrivateKey, error) {
	if s.opts.KeySource != nil {
		return s.opts.KeySource(ctx)
	}
	return s.opts.Key, nil
}

// timeLayout is how the store keeps times: UTC with all nine digits of
// the fraction, so that SQL compares and orders them right as text.
// RFC3339Nano drops trailing zeros, and "10:00:00Z" sorts after
// "10:00:00.5Z" ('Z' > '.'); migration 011 rewrote the rows written so.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// fmtTime is t as stored (timeLayout).
func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func (s *Service) now() string { return fmtTime(s.opts.Now()) }

// parseTime reads a time the service stored (fmtTime; RFC3339Nano in rows
// from before migration 011, which time.Parse reads either way); nil for
// "" (none).
func parseTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return &t
}
