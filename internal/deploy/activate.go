package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Deployment is one artifact put live on one environment.
type Deployment struct {
	ID          int64          `json:"id"`
	Project     string         `json:"project"`
	Environment string         `json:"environment"`
	Artifact    backend.Digest `json:"artifact"`
	Release     string         `json:"release,omitempty"`
	Actor       string         `json:"actor,omitempty"`
	Message     string         `json:"message,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	Active      bool           `json:"active"`
	// Status is StatusActive, StatusFailed, StatusRolledBack or
	// StatusInactive (see them).
	Status string `json:"status,omitempty"`
	// Failure says what failed when the deployment failed verification
	// and was taken back automatically (Revert), e.g.
	// "health-check/production"; "" for every other deployment.
	Failure  string     `json:"failure,omitempty"`
	FailedAt *time.Time `json:"failed_at,omitempty"`
	// Verification is where the verification of the deployment stands:
	// VerifyPending, VerifyPassed, VerifyFailed or VerifySuperseded, and
	// VerifyByRun while its pipeline run's health checks have not passed;
	// "" when no one verifies it (a run that checks none of its
	// environment, or older than the state). VerificationAt is when a
	// pending verification began, else when it ended.
	Verification   string     `json:"verification,omitempty"`
	VerificationAt *time.Time `json:"verification_at,omitempty"`
	// Run is the pipeline run whose deploy step made it (FinalizeOptions.Run).
	Run string `json:"run,omitempty"`
	// Restored: its pending verification is the check of a release the
	// server's automatic rollback restored (Revert with Alert), whose
	// failure is alerted on and never rolled back again. Stored, so a
	// check cut short by a stop is finished by the next start as one.
	Restored bool `json:"restored,omitempty"`
	// LiveSince is when the active deployment went live: the last
	// activation that made it active on its environment (its deploy, or
	// a rollback to it), where CreatedAt stays its first deploy; nil for
	// every deployment but the active one.
	LiveSince *time.Time `json:"live_since,omitempty"`
}

// A deployment's Status.
const (
	StatusActive = "active" // the environment serves it
	// StatusFailed: it failed verification and was taken back (Failure
	// says why); a rollback never returns to it.
	StatusFailed = "failed"
	// StatusRolledBack: newer than the active deployment, so a rollback
	// went past it.
	StatusRolledBack = "rolled_back"
	StatusInactive   = "inactive" // superseded by a later deployment
)

// Name names d in messages people read (alerts): its release, else
// "deployment 12".
func (d Deployment) Name() string {
	if d.Release != "" {
		return d.Release
	}
	return "deployment " + strconv.FormatInt(d.ID, 10)
}

// setState sets Active and Status from the environment's active deployment.
func (d *Deployment) setState(activeID int64) {
	d.Active = d.ID == activeID
	switch {
	case d.Active:
		d.Status = StatusActive
	case d.Failure != "":
		d.Status = StatusFailed
	case d.ID > activeID:
		d.Status = StatusRolledBack
	default:
		d.Status = StatusInactive
	}
}

// setLive sets Active, Status and LiveSince from env, the deployment's
// environment as last read.
func (d *Deployment) setLive(env Environment) {
	d.setState(env.ActiveID)
	if d.Active {
		d.LiveSince = env.LiveSince
	}
}

// FinalizeOptions says where an upload goes live.
type FinalizeOptions struct {
	Environment string
	Actor       string
	Message     string
	// Approvals is how many distinct approvals the release pipeline
	// collected for this deployment; an environment needing more refuses
	// it, so direct deploys to an environment with approvals fail.
	Approvals int
	// Run is the pipeline run whose deploy step makes this deployment
	// (its id); its health-check steps verify it, not the server
	// (Options.Verify). Only the pipeline sets it, never a request: a
	// message is no proof of a run.
	Run string
	// RunChecks: the run has health-check steps acting on the
	// environment. The deployment is then VerifyByRun until they pass
	// (RunPassed), so promote_from does not count it before; without
	// them no one verifies it ("") and it counts once made.
	RunChecks bool
}

// Finalize checks that every blob of the upload is stored, signs the
// manifest, records the artifact and a deployment, and activates it, all
// in one transaction. Nothing unverified is activated. An environment that
// needs approvals refuses a deployment with fewer (o.Approvals), and one
// that promotes from another (promote_from) an artifact that did not run
// there (promote.go).
func (s *Service) Finalize(ctx context.Context, uploadID string, o FinalizeOptions) (*Deployment, error) {
	up, err := s.loadUpload(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	env, err := s.Environment(ctx, up.Project, o.Environment)
	if err != nil {
		return nil, err
	}
	if env.Approvals > o.Approvals {
		return nil, usererr.New(usererr.Conflict, "environment %s/%s needs %d approval(s) before a deployment; this one has %d",
			up.Project, o.Environment, env.Approvals, o.Approvals).WithHint("release through the pipeline: phoenix release VERSION --env %s", o.Environment)
	}
	// Refused before anything is fetched or signed; checked again in the
	// activation's transaction, on what is committed then.
	if _, err := s.checkPromotion(ctx, s.opts.DB, up.Project, o.Environment, up.Digest, up.manifest); err != nil {
		return nil, err
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	if err := s.checkBlobs(ctx, up.manifest); err != nil {
		return nil, err
	}
	if err := s.fetch(ctx, up.manifest); err != nil {
		return nil, err
	}
	if s.opts.Check != nil {
		if err := s.opts.Check(ctx, s.release(env, Deployment{}, up.manifest)); err != nil {
			return nil, usererr.Wrap(usererr.Invalid, err, "release refused: "+err.Error())
		}
	}
	canon, _ := up.manifest.Canonical()
	key, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	sig, err := sign.Sign(key, canon, fmt.Sprintf("phoenix artifact project=%s release=%s manifest=%s",
		up.Project, up.manifest.Meta.Release, up.Digest))
	if err != nil {
		return nil, fmt.Errorf("deploy: sign: %w", err)
	}
	var dep *Deployment
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.recordArtifact(ctx, tx, up, canon, sig, key.ID()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = $1`, up.ID); err != nil {
			return err
		}
		promoted, err := s.checkPromotion(ctx, tx, up.Project, o.Environment, up.Digest, up.manifest)
		if err != nil {
			return err
		}
		dep, err = s.insertDeployment(ctx, tx, up.Project, o, up.Digest, s.verifies(up.Project, o), promoted)
		return err
	})
	var ue *usererr.Error
	if errors.As(err, &ue) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("deploy: activate %s/%s: %w", up.Project, o.Environment, err)
	}
	dep.Release = up.manifest.Meta.Release
	s.opts.Logger.Info("deployment activated", "project", dep.Project, "env", dep.Environment, "id", dep.ID, "artifact", dep.Artifact)
	s.notify(s.release(env, *dep, up.manifest))
	return dep, nil
}

// checkBlobs verifies that every blob the manifest names is stored with the
// right size. Content was checked against its digest when it was put.
func (s *Service) checkBlobs(ctx context.Context, m *artifact.Manifest) error {
	missing := 0
	var first backend.Digest
	for _, b := range m.Blobs() {
		info, err := s.opts.Blobs.Stat(ctx, b.Digest)
		if errors.Is(err, backend.ErrNotFound) || (err == nil && info.Size != b.Size) {
			if missing == 0 {
				first = b.Digest
			}
			missing++
			continue
		}
		if err != nil {
			return fmt.Errorf("deploy: stat %s: %w", b.Digest, err)
		}
	}
	if missing > 0 {
		return usererr.New(usererr.Conflict, "%d blob(s) of the artifact are not uploaded yet (first: %s)", missing, first).
			WithHint("run the deploy again: it uploads only what is missing")
	}
	return nil
}

// fetch makes every blob of m a local file before m is activated, when the
// blob store is a local cache of a remote one (backend.Fetcher), so the edge
// serves the release without waiting for the remote store. Other stores
// keep their blobs local already.
func (s *Service) fetch(ctx context.Context, m *artifact.Manifest) error {
	f, ok := s.opts.Blobs.(backend.Fetcher)
	if !ok {
		return nil
	}
	var ds []backend.Digest
	for _, b := range m.Blobs() {
		ds = append(ds, b.Digest)
	}
	if err := f.Fetch(ctx, ds); err != nil {
		return fmt.Errorf("deploy: make the release's blobs local: %w", err)
	}
	return nil
}

// FetchBlobs makes the blobs of r local files when the blob store is a
// cache of a remote one (see fetch); the app calls it for every active
// release at start, before the edge serves, so a server whose cache was
// emptied fills it again first.
func (s *Service) FetchBlobs(ctx context.Context, r *Release) error {
	if _, ok := s.opts.Blobs.(backend.Fetcher); !ok {
		return nil
	}
	m, err := r.Manifest()
	if err != nil {
		return err
	}
	return s.fetch(ctx, m)
}

func (s *Service) recordArtifact(ctx context.Context, tx *sql.Tx, up *Upload, canon, sig []byte, keyID string) error {
	var files int
	var bytes int64
	for _, f := range up.manifest.Files {
		files++
		bytes += f.Size
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO artifacts (digest, project, release, manifest, signature, key_id, files, bytes, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (digest) DO NOTHING`,
		string(up.Digest), up.Project, up.manifest.Meta.Release, canon, sig, keyID, files, bytes, s.now())
	return err
}

// insertDeployment records a deployment and activates it; verify: the
// server verifies it after the activation, so it is recorded pending
// verification (a stop or crash before the verdict leaves it so, and the
// next start verifies it again). promoted, if any, is what made it
// promotable (checkPromotion), for the activation's audit record.
func (s *Service) insertDeployment(ctx context.Context, tx *sql.Tx, project string, o FinalizeOptions, d backend.Digest, verify bool,
	promoted string) (*Deployment, error) {
	now := s.opts.Now().UTC()
	at := fmtTime(now)
	dep := &Deployment{Project: project, Environment: o.Environment, Artifact: d,
		Actor: o.Actor, Message: o.Message, CreatedAt: now, Active: true, Status: StatusActive, LiveSince: &now}
	state, stateAt := "", ""
	switch {
	case verify:
		state, stateAt = VerifyPending, at
		dep.Verification, dep.VerificationAt = VerifyPending, &now
	case o.Run != "" && o.RunChecks:
		state, stateAt = VerifyByRun, at
		dep.Verification, dep.VerificationAt = VerifyByRun, &now
	}
	dep.Run = o.Run
	err := tx.QueryRowContext(ctx, `INSERT INTO deployments (project, environment, artifact, actor, message, created_at, verification, verification_at, run)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, project, o.Environment, string(d), o.Actor, o.Message, at, state, stateAt, o.Run).Scan(&dep.ID)
	if err != nil {
		return nil, err
	}
	m := move{project: project, env: o.Environment, id: dep.ID, action: "deploy", actor: o.Actor, detail: o.Message, at: now}
	if promoted != "" {
		m.detail = strings.TrimPrefix(m.detail+"; "+promoted, "; ")
	}
	if err := s.point(ctx, tx, m); err != nil {
		return nil, err
	}
	return dep, nil
}

// move is one move of an environment's active pointer: to deployment id,
// by a deploy or a rollback (action), at a time that becomes the
// environment's live_since.
type move struct {
	project, env  string
	id            int64
	action        string // deploy or rollback
	actor, detail string
	at            time.Time
}

// rollbackTo is the move of a rollback of env to deployment id now.
func (s *Service) rollbackTo(env Environment, id int64, actor, detail string) move {
	return move{project: env.Project, env: env.Name, id: id, action: "rollback", actor: actor, detail: detail, at: s.opts.Now().UTC()}
}

// point moves an environment's active pointer, records since when it
// serves that deployment, and records why. The deployment it moves off,
// if its verification is pending, is recorded superseded: no verdict will
// come, and no start verifies it again.
func (s *Service) point(ctx context.Context, tx *sql.Tx, m move) error {
	at := fmtTime(m.at)
	if err := supersede(ctx, tx, m.project, m.env, m.id, at); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE environments SET active_id = $1, live_since = $2 WHERE project = $3 AND name = $4`,
		m.id, at, m.project, m.env)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return usererr.New(usererr.NotFound, "no environment %s/%s", m.project, m.env)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO deploy_events (project, environment, action, deployment, actor, detail, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.project, m.env, m.action, m.id, m.actor, m.detail, at)
	if err != nil {
		return err
	}
	detail := m.detail
	if detail == "" {
		detail = fmt.Sprintf("deployment %d", m.id)
	}
	verb := map[string]string{"deploy": "deploy.activate"}[m.action]
	if verb == "" {
		verb = "deploy." + m.action
	}
	return s.audit(ctx, tx, Event{Action: verb, Project: m.project, Environment: m.env, Deployment: m.id,
		Actor: m.actor, Detail: detail})
}

func (s *Service) release(env Environment, d Deployment, m *artifact.Manifest) Release {
	r := Release{Project: env.Project, Environment: env.Name, Domains: env.Domains, IPAllow: env.IPAllow, Deployment: d, manifest: m}
	if m == nil {
		r.load = func() (*artifact.Manifest, error) { return s.Manifest(context.Background(), d.Artifact) }
	}
	return r
}
