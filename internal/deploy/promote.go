package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Promotion (phoenix.yaml's environments.ENV.promote_from): an environment
// that promotes from another takes only an artifact that has a deployment
// there, in the same project, which ran — by digest, or another artifact
// with the same files (the same folder built again: only the manifest's
// provenance differs, what is served is the same): it was not taken back
// as failed, it did not fail the server's verification, and its
// verification is not still pending (nor was it replaced before its
// verdict). A pipeline run's deployment, which the server does not verify,
// counts once the run's health-check steps of that environment passed
// (RunPassed; a failure there takes it back as failed), or once made when
// the run checks none. Finalize
// checks it, so every path obeys it (phoenix deploy, a release's deploy
// step, the API). A rollback within the environment moves the pointer to
// something that already ran there, and is not checked.

// promotable holds for a deployment d whose artifact ran on d's
// environment (see above).
const promotable = `d.failure = '' AND d.verification IN ('', '` + VerifyPassed + `')`

// querier is a transaction or the database.
type querier interface {
	rowQuerier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// checkPromoteFrom checks an environment's promote_from as declared.
func checkPromoteFrom(spec EnvSpec) error {
	if spec.PromoteFrom == "" {
		return nil
	}
	if spec.PromoteFrom == spec.Name {
		return usererr.New(usererr.Invalid, "environment %s cannot promote from itself", spec.Name).
			WithHint("name the environment its artifacts must have run on first, e.g. promote_from: staging")
	}
	if !slug.MatchString(spec.PromoteFrom) {
		return usererr.New(usererr.Invalid, "promote_from of %s: %q is not an environment name", spec.Name, spec.PromoteFrom).
			WithHint("name another environment of the project, e.g. staging")
	}
	return nil
}

// checkPromotion refuses to activate the artifact digest (manifest m) on
// env of project when env promotes from another environment on which the
// artifact (or one with the same files) has no deployment that ran
// (promotable). It reads env's promote_from through q, so in the
// activation's transaction it decides on what is committed when the
// deployment is. promoted says which deployment there made it promotable
// ("" when env promotes from none).
func (s *Service) checkPromotion(ctx context.Context, q querier, project, env string, digest backend.Digest,
	m *artifact.Manifest) (promoted string, err error) {
	var from string
	err = q.QueryRowContext(ctx, `SELECT promote_from FROM environments WHERE project = $1 AND name = $2`, project, env).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && from == "") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("deploy: promote_from of %s/%s: %w", project, env, err)
	}
	var id int64
	err = q.QueryRowContext(ctx, `SELECT d.id FROM deployments d WHERE d.project = $1 AND d.environment = $2 AND d.artifact = $3
		AND `+promotable+` ORDER BY d.id DESC LIMIT 1`, project, from, string(digest)).Scan(&id)
	switch {
	case err == nil:
		return fmt.Sprintf("promoted from %s (deployment %d)", from, id), nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("deploy: deployments of %s on %s/%s: %w", digest, project, from, err)
	}
	twin, same, err := s.builtAgain(ctx, q, project, from, digest, m)
	if err != nil {
		return "", err
	}
	if twin != nil && same && ranThere(*twin) {
		return fmt.Sprintf("promoted from %s: the same files as deployment %d (%s), built at another time", from, twin.ID, short(twin.Artifact)), nil
	}
	return "", s.promotionRefusal(ctx, q, project, env, from, digest, m, twin, same)
}

// promotionRefusal is the refusal of artifact digest (manifest m) on env,
// which promotes from another environment (from) where it did not run:
// what became of it there, and what ran there instead when that is the
// same release or the same files built again.
func (s *Service) promotionRefusal(ctx context.Context, q querier, project, env, from string, digest backend.Digest, m *artifact.Manifest,
	twin *Deployment, same bool) error {
	what := "artifact " + short(digest)
	if m.Meta.Release != "" {
		what += " (release " + m.Meta.Release + ")"
	}
	why, hint := "has no deployment on "+from, ""
	last, err := scanDeployment(q.QueryRowContext(ctx, `SELECT `+depColumns+` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND d.artifact = $3 ORDER BY d.id DESC LIMIT 1`, project, from, string(digest)))
	switch {
	case err == nil:
		why, hint = fateOn(from, last)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("deploy: deployments of %s on %s/%s: %w", digest, project, from, err)
	}
	if twin != nil {
		why += "; " + twinOn(from, *twin, same)
		switch {
		case same: // the same files count once they ran there
			_, hint = fateOn(from, *twin)
		case ranThere(*twin):
			hint = fmt.Sprintf("'phoenix release %s --env %s' deploys what %s ran; or deploy this artifact to %s first", twin.Release, env, from, from)
		}
	}
	if hint == "" {
		hint = fmt.Sprintf("deploy it to %s first and let it pass verification there ('phoenix deploy DIR --env %s'), or release it there first: "+
			"'phoenix release VERSION --env %s', then '--env %s' deploys what %s ran", from, from, from, env, from)
	}
	return usererr.New(usererr.Conflict, "environment %s/%s takes only artifacts that ran on %s (environments.%s.promote_from: %s): %s %s",
		project, env, from, env, from, what, why).WithHint("%s", hint)
}

// fateOn says why last, the newest deployment of an artifact on from, does
// not count as having run there, and what to do.
func fateOn(from string, last Deployment) (why, hint string) {
	wait := fmt.Sprintf("wait for its verdict ('phoenix deployments --env %s'; a running server verifies it) and deploy again", from)
	switch {
	case last.Failure != "":
		return fmt.Sprintf("failed verification on %s (deployment %d: %s) and was taken back", from, last.ID, last.Failure),
			"fix the release and deploy it to " + from + " again"
	case last.Verification == VerifyFailed:
		return fmt.Sprintf("failed verification on %s (deployment %d, kept live there as rollback.auto is off)", from, last.ID),
			"fix the release and deploy it to " + from + " again"
	case last.Verification == VerifyPending && last.VerificationAt != nil:
		return fmt.Sprintf("is still pending verification on %s (deployment %d, since %s)", from, last.ID,
			last.VerificationAt.UTC().Format("2006-01-02 15:04:05 UTC")), wait
	case last.Verification == VerifyPending:
		return fmt.Sprintf("is still pending verification on %s (deployment %d)", from, last.ID), wait
	case last.Verification == VerifyByRun:
		return fmt.Sprintf("is still being health-checked on %s by pipeline run %s (deployment %d)", from, last.Run, last.ID),
			fmt.Sprintf("wait for the run's health checks of %s ('phoenix logs %s -f') and deploy again", from, last.Run)
	default: // superseded
		return fmt.Sprintf("was replaced on %s before its verification ended (deployment %d, not verified)", from, last.ID),
			"deploy it to " + from + " again and let it pass verification there"
	}
}

// ranThere reports whether d counts as having run on its environment:
// what promotable says in SQL.
func ranThere(d Deployment) bool {
	return d.Failure == "" && (d.Verification == "" || d.Verification == VerifyPassed)
}

// stateOf says why d does not count as having run on its environment, in
// a few words.
func stateOf(d Deployment) string {
	switch {
	case d.Failure != "":
		return "failed verification: " + d.Failure
	case d.Verification == VerifyFailed:
		return "failed verification"
	case d.Verification == VerifyPending && d.VerificationAt != nil:
		return "pending verification since " + d.VerificationAt.UTC().Format("2006-01-02 15:04:05 UTC")
	case d.Verification == VerifyPending:
		return "pending verification"
	case d.Verification == VerifyByRun:
		return "being health-checked by pipeline run " + d.Run
	}
	return "replaced before its verdict"
}

// twinOn names twin, a deployment on from of the artifact refused built
// again (the same files when same, else the same release), and where it
// stands when it does not count.
func twinOn(from string, twin Deployment, same bool) string {
	verb, state := "ran", ""
	if !ranThere(twin) {
		verb, state = "has", ", "+stateOf(twin)
	}
	if same {
		return fmt.Sprintf("%s %s the same files as another artifact, %s (deployment %d%s), built at another time",
			from, verb, short(twin.Artifact), twin.ID, state)
	}
	return fmt.Sprintf("%s %s release %s as another artifact, %s (deployment %d%s)", from, verb, twin.Release, short(twin.Artifact), twin.ID, state)
}

// builtAgain looks on from for a deployment of the artifact digest
// (manifest mine) built again: another artifact with the same files, else
// one of the same release; the newest, and whether it has the same files.
// A folder built twice gives two artifacts, since the manifest records
// when (and for a pipeline run, by which run) it was built.
func (s *Service) builtAgain(ctx context.Context, q querier, project, from string, digest backend.Digest, mine *artifact.Manifest) (*Deployment, bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+depColumns+`, a.manifest FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND d.artifact <> $3 ORDER BY d.id DESC LIMIT $4`,
		project, from, string(digest), max(s.opts.Keep, 20))
	if err != nil {
		return nil, false, fmt.Errorf("deploy: deployments of %s/%s: %w", project, from, err)
	}
	defer rows.Close()
	var release *Deployment
	for rows.Next() {
		var canon []byte
		d, err := scanDeployment(scanWith(rows, &canon))
		if err != nil {
			return nil, false, err
		}
		m, err := artifact.Decode(canon)
		switch {
		case err != nil:
		case artifact.SameFiles(mine, m):
			return &d, true, nil
		case release == nil && mine.Meta.Release != "" && d.Release == mine.Meta.Release:
			release = &d
		}
	}
	return release, false, rows.Err()
}

// short is a digest as the deployments list shows it: sha256: and 12 hex
// digits.
func short(d backend.Digest) string {
	s := string(d)
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	return s
}

// Promotable returns the newest deployment on env of project of an artifact
// of release that a pipeline run deployed there and that ran there (as
// promotion counts it), with its artifact's manifest (canonical); nil
// when there is none. A release to the environment that promotes from env
// alone deploys it rather than a build of its own, which is another
// artifact, and leaves out its gates and build: so a phoenix deploy by
// hand never counts here, whatever release name it carries (a folder
// built on someone's machine, named after the tag its checkout was at),
// though promote_from lets it through to a deploy by hand.
func (s *Service) Promotable(ctx context.Context, project, env, release string) (*Deployment, []byte, error) {
	if release == "" {
		return nil, nil, nil
	}
	var canon []byte
	row := s.opts.DB.QueryRowContext(ctx, `SELECT `+depColumns+`, a.manifest FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND a.release = $3 AND d.run <> '' AND `+promotable+` ORDER BY d.id DESC LIMIT 1`, project, env, release)
	d, err := scanDeployment(scanWith(row, &canon))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("deploy: %s of %s/%s: %w", release, project, env, err)
	}
	return &d, canon, nil
}

// scanWith is row with extra destinations after the ones Scan is given.
func scanWith(row interface{ Scan(...any) error }, extra ...any) interface{ Scan(...any) error } {
	return scanFunc(func(dest ...any) error { return row.Scan(append(dest, extra...)...) })
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
