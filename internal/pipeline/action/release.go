package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/project"
)

// ParseVersion reads a release tag: a semantic version with an optional
// prefix (the configured tag_prefix, or "v").
func ParseVersion(tag, prefix string) (*semver.Version, error) {
	s := strings.TrimSpace(tag)
	if prefix != "" {
		s = strings.TrimPrefix(s, prefix)
	}
	s = strings.TrimPrefix(s, "v")
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("release tag %q is not a semantic version (write e.g. v1.4.2 or 1.4.2-rc.1): %w", tag, err)
	}
	return v, nil
}

// validateTag checks the run's version: semver with an optional v, greater
// than the project's last release (or a promotion of an earlier one to
// environments it has not reached), and mentioned in the changelog when
// release.changelog is set.
func validateTag(_ context.Context, sc *Context) error {
	prefix := ""
	if sc.Config != nil {
		prefix = sc.Config.Release.TagPrefix
	}
	v, err := ParseVersion(sc.Run.Version, prefix)
	if err != nil {
		return err
	}
	sc.SetOutput("version", v.String())
	line, err := CheckTag(sc.Run, prefix)
	if err != nil {
		return err
	}
	sc.Logf("%s", line)
	if sc.Config == nil || sc.Config.Release.Changelog == "" {
		return nil
	}
	return checkChangelog(filepath.Join(sc.Dir, sc.Config.Release.Changelog), sc.Config.Release.Changelog, v)
}

// CheckTag is validate-tag's check of run's version (tags prefixed with
// prefix) against the project's earlier releases (run.Released): it must
// be greater than the last, or promote an earlier release to further
// environments. It returns the line validate-tag logs, or why the version
// may not be released. The server also checks a release with it before
// queuing it, so a tag given by mistake is refused on the spot.
func CheckTag(run RunInfo, prefix string) (string, error) {
	v, err := ParseVersion(run.Version, prefix)
	if err != nil {
		return "", err
	}
	if len(run.Released) == 0 {
		return fmt.Sprintf("version %s: first release of %s", v, run.Project), nil
	}
	last := run.Released[0].Version
	lv, err := ParseVersion(last, prefix)
	switch promoted, ok := promotion(v, prefix, run); {
	case err != nil || v.GreaterThan(lv):
		return fmt.Sprintf("version %s > last release %s", v, last), nil
	case ok:
		return promoted, nil
	}
	return "", fmt.Errorf("release %s is not greater than the last release %s of %s (tag a higher version)",
		run.Version, last, run.Project)
}

// promotion reports whether v, not greater than the project's last
// release, is promoted: a release to staging alone, then of the same
// version to production. A successful release of v went to other
// environments than the run's, and v is greater than the last release to
// each of the run's (it goes on, never back). It says so in a line for
// the log.
func promotion(v *semver.Version, prefix string, run RunInfo) (string, bool) {
	if len(run.Environments) == 0 {
		return "", false
	}
	var from, there []string
	seen := map[string]bool{}
	for _, r := range run.Released { // newest first
		rv, err := ParseVersion(r.Version, prefix)
		if err != nil {
			continue
		}
		for _, env := range r.Environments {
			switch {
			case slices.Contains(run.Environments, env) && !seen[env]:
				seen[env] = true
				if !v.GreaterThan(rv) {
					return "", false
				}
				there = append(there, fmt.Sprintf("%s on %s", r.Version, env))
			case !slices.Contains(run.Environments, env) && rv.Equal(v) && !slices.Contains(from, env):
				from = append(from, env)
			}
		}
	}
	if len(from) == 0 {
		return "", false
	}
	msg := fmt.Sprintf("version %s, released to %s, is promoted to %s", v, strings.Join(from, ", "), strings.Join(run.Environments, ", "))
	if len(there) > 0 {
		msg += " (last release there: " + strings.Join(there, ", ") + ")"
	}
	return msg, true
}

func checkChangelog(path, name string, v *semver.Version) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("changelog %s: %w (release.changelog names it)", name, err)
	}
	rx := regexp.MustCompile(`(^|[^0-9A-Za-z.])v?` + regexp.QuoteMeta(v.String()) + `($|[^0-9A-Za-z.-])`)
	for _, line := range strings.Split(string(b), "\n") {
		if rx.MatchString(line) {
			return nil
		}
	}
	return fmt.Errorf("changelog %s has no entry for %s (add a section such as \"## %s\")", name, v, v)
}

// fetchSecrets resolves the secrets the release needs (input names, else
// vault.required), masks them in every later log, and fails naming every
// missing one. A production secret is not read by a run that does not
// deploy to production (a staging release): none of its steps may read
// it, so there is nothing to mask, and the production release fetches it.
// It warns first of vault.rotation secrets older than their rule allows.
func (d *Deps) fetchSecrets(ctx context.Context, sc *Context) error {
	d.checkRotation(ctx, sc)
	names := sc.Strings("names")
	if len(names) == 0 && sc.Config != nil {
		names = sc.Config.Vault.Required
	}
	if len(names) == 0 {
		sc.Logf("no secrets required (vault.required is empty)")
		return nil
	}
	if d.Secrets == nil {
		return fmt.Errorf("no secret source: cannot fetch %s", strings.Join(names, ", "))
	}
	var missing []string
	for _, n := range names {
		v, err := d.secret(ctx, sc, n)
		switch {
		case errors.Is(err, ErrProductionOnly):
			sc.Logf("%s: a production secret, not read: this run does not deploy to production", n)
		case err != nil:
			missing = append(missing, n)
			sc.Logf("%s: %v", n, err)
		case len(v) < executor.MinSecretLen:
			missing = append(missing, n)
			sc.Logf("%s: shorter than %d characters, so it could not be hidden in logs", n, executor.MinSecretLen)
		default:
			sc.Logf("%s: fetched", n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d secret(s) unavailable: %s", len(missing), strings.Join(missing, ", "))
	}
	return nil
}

// createArtifact builds the release artifact from the build output (the
// build step's "dir" output, or input dir) into the blob store and hands
// its manifest to later steps as manifest.json in the run's files.
func (d *Deps) createArtifact(ctx context.Context, sc *Context) error {
	if d.Blobs == nil {
		return errors.New("no blob store configured")
	}
	from := firstNonEmpty(sc.String("from"), "build")
	dir := sc.String("dir")
	if dir == "" {
		dir = sc.Output(from, "dir")
	}
	if dir == "" {
		return errors.New("no build output: the build step set no dir output and with.dir is empty")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(sc.Dir, dir)
	}
	if p := sc.Sandbox(); p != nil && !p.Allows(dir) {
		return fmt.Errorf("the build output %s is, or links into, what the run's steps may not reach (the server's data dir or key files): "+
			"build into the project folder", dir)
	}
	// Every deploy refuses an artifact whose staticwebapp.config.json has
	// errors, as the cloud does: say so before it is built and signed, not
	// at the first deploy, after the approvals it waited for.
	if _, err := swa.LoadDir(dir); err != nil {
		return fmt.Errorf("the build output's %s has errors, for which every deploy would refuse the artifact (phoenix validate %s lists them):\n%w",
			swa.FileName, dir, err)
	}
	// The build step has just written the output folder: it is throwaway,
	// so its files are hard-linked into the blob store instead of copied
	// (the next build replaces them; they must not be edited in place).
	created, err := artifact.CreatedFromEnv(sc.Env) // SOURCE_DATE_EPOCH: a reproducible manifest
	if err != nil {
		return err
	}
	opts := artifact.BuildOptions{Meta: artifact.Meta{Project: sc.Run.Project, Release: sc.Run.Version,
		Commit: sc.Run.Commit, Created: created, Builder: "phoenix pipeline " + sc.Run.ID}, LinkFiles: linkable(sc, from, dir)}
	if filepath.Clean(dir) == filepath.Clean(sc.Dir) {
		opts.Exclude = project.OwnFiles("phoenix.yaml")
		sc.Logf("the output is the project folder: phoenix.yaml and .git left out")
	}
	if sc.Config != nil {
		opts.PublicSourceMaps = sc.Config.Build.Sourcemaps == "include"
	}
	m, canon, err := d.buildHeld(ctx, sc, dir, opts)
	if err != nil {
		return err
	}
	path := filepath.Join(sc.Files, "manifest.json")
	if err := os.WriteFile(path, canon, 0o600); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	digest, _ := m.Digest()
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Size
	}
	sc.SetOutput("manifest", path)
	sc.SetOutput("digest", string(digest))
	sc.SetOutput("files", strconv.Itoa(len(m.Files)))
	sc.Logf("artifact %s: %d files, %d bytes", digest, len(m.Files), bytes)
	for _, w := range m.Warnings {
		sc.Logf("warning: %s", w)
	}
	return nil
}

// linkable reports whether the files in dir may be hard-linked into the
// blob store, which makes them read-only and ties them to the stored blobs:
// only for a build's throwaway output. The project folder, or an output
// the build step deployed as it is (no build command), holds the user's
// own files, which are copied.
func linkable(sc *Context, from, dir string) bool {
	return filepath.Clean(dir) != filepath.Clean(sc.Dir) && sc.Output(from, "built") != "false"
}

// buildHeld builds the artifact into the blob store and, when the Deployer
// is a Holder, holds its blobs for the run's deploys. A blob the build
// found already stored is not protected until the hold: should a
// collection delete it in between, the hold reports it missing and the
// build runs once more (it stores what is missing; the hold now protects
// everything).
func (d *Deps) buildHeld(ctx context.Context, sc *Context, dir string, opts artifact.BuildOptions) (*artifact.Manifest, []byte, error) {
	h, _ := d.Deployer.(Holder)
	for attempt := 0; ; attempt++ {
		m, err := artifact.Build(ctx, dir, d.Blobs, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("artifact of %s: %w", dir, err)
		}
		canon, err := m.Canonical()
		if err != nil || h == nil {
			return m, canon, err
		}
		missing, err := h.Hold(ctx, sc.Run.Project, canon)
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("artifact: keep its blobs for the deploys: %w", err)
		case missing == 0:
			return m, canon, nil
		case attempt > 0:
			return nil, nil, fmt.Errorf("artifact: %d blob(s) vanished from the store twice while it was built", missing)
		}
		sc.Logf("artifact: %d blob(s) were collected while it was built; storing them again", missing)
	}
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

// deploy puts the run's artifact live on the step's environment.
func (d *Deps) deploy(ctx context.Context, sc *Context) error {
	if d.Deployer == nil {
		return errors.New("no deployer configured")
	}
	env := sc.Environment()
	if env == "" {
		return errors.New("deploy: name the environment (with: {environment: production})")
	}
	canon, err := d.manifestToDeploy(ctx, sc, env)
	if err != nil {
		return err
	}
	req := DeployRequest{Project: sc.Run.Project, Environment: env, Manifest: canon, Release: sc.Run.Version,
		Actor: sc.Run.Actor, Message: "pipeline run " + sc.Run.ID, Run: sc.Run.ID, ApprovalsGiven: sc.Approvals(env), RunDeployed: sc.Deployed,
		RunChecks: sc.Checks != nil && sc.Checks(env)}
	if sc.Config != nil {
		req.Edge = &sc.Config.Edge
		if e := sc.Config.Environments[env]; e != nil {
			req.Declared = true
			req.Locked, req.Approvals, req.Domains, req.IPAllow = e.Protection.Lock, e.Protection.Approvals, e.Domains, e.IPAllow
			req.PromoteFrom = e.PromoteFrom
		}
	}
	res, err := d.Deployer.Deploy(ctx, req)
	if err != nil {
		return err
	}
	if p := res.Promoted; p != nil {
		files := "the same files, built again: a build records when and by which run it was made, so it is another artifact"
		if !p.SameFiles {
			files = "which has other files: " + env + " gets what " + p.From + " ran"
		}
		sc.Logf("promote_from: %s: deploying the artifact %s ran of %s, %s (deployment %d there), not this run's build %s (%s)",
			p.From, p.From, sc.Run.Version, p.Artifact, p.Deployment, p.Built, files)
	}
	sc.SetOutput("deployment", strconv.FormatInt(res.ID, 10))
	sc.SetOutput("artifact", res.Artifact)
	sc.Logf("deployment %d of %s is live on %s", res.ID, sc.Run.Version, env)
	return nil
}

// rollback takes back the release on every environment this run deployed
// to (input environments, else the step's): the deployment is recorded as
// failed, with the failed steps as the reason, and the newest earlier one
// that passed verification (else that did not fail) is re-activated. Where the environment's rollback.auto
// is off it stays live, recorded as failed verification all the same (an
// environment promoting from this one does not take its artifact).
func (d *Deps) rollback(ctx context.Context, sc *Context) error {
	envs := sc.Strings("environments")
	if len(envs) == 0 {
		envs = []string{sc.Environment()}
	}
	var errs []error
	for _, env := range envs {
		if env == "" || !sc.Deployed(env) {
			sc.Logf("%s: this run deployed nothing there; nothing to roll back", firstNonEmpty(env, "(no environment)"))
			continue
		}
		if d.Deployer == nil {
			return errors.New("no deployer configured")
		}
		req := RollbackRequest{Project: sc.Run.Project, Environment: env, Reason: failedSteps(sc, env), Actor: sc.Run.Actor}
		if sc.Deployment != nil {
			req.Failed = sc.Deployment(env)
		}
		if sc.Config != nil {
			if e := sc.Config.Environments[env]; e != nil && !e.Rollback.Auto {
				req.Keep = true
			}
		}
		res, err := d.Deployer.Rollback(ctx, req)
		if err != nil {
			errs = append(errs, fmt.Errorf("rollback of %s: %w", env, err))
			continue
		}
		if req.Keep {
			sc.Logf("%s: rollback.auto is off; leaving the failed release live, recorded as failed verification (%s)",
				env, firstNonEmpty(req.Reason, "verification"))
			continue
		}
		sc.Logf("%s: rolled back to deployment %d (%s); the one this run made is recorded as failed (%s)",
			env, res.ID, res.Release, firstNonEmpty(req.Reason, "verification"))
		sc.SetOutput("deployment_"+env, strconv.FormatInt(res.ID, 10))
	}
	return errors.Join(errs...)
}

// failedSteps names what failed for a rollback on env: the failed steps
// the rollback depends on that act on env, else all of them as where the
// release failed ("" when the engine does not say).
func failedSteps(sc *Context, env string) string {
	if sc.Failed == nil {
		return ""
	}
	var all, here []string
	for _, st := range sc.Failed() {
		all = append(all, st.ID)
		if st.Environment == env || (st.Environment == "" && len(sc.Run.Environments) == 1 && sc.Run.Environments[0] == env) {
			here = append(here, st.ID)
		}
	}
	switch {
	case len(here) > 0:
		return strings.Join(here, ", ")
	case len(all) > 0: // taken back with the release, which failed elsewhere
		return "the release failed at " + strings.Join(all, ", ")
	}
	return ""
}

// notify sends input event with input severity (default 0 for failures,
// 3 otherwise) to input channel. The event and environment default to the
// triggering event's in a workflow an event started, else to
// release.succeeded and the step's environment (Context.Environment).
func (d *Deps) notify(ctx context.Context, sc *Context) error {
	n := notification(sc)
	var nd *NotDelivered
	switch err := d.Notifier.Notify(ctx, n); {
	case errors.As(err, &nd):
		sc.Logf("warning: %s (severity %d) was not sent: %s", n.Event, n.Severity, nd.Reason)
		return nil
	case err != nil:
		return fmt.Errorf("notify %s: %w", n.Event, err)
	}
	sc.Logf("sent %s (severity %d)", n.Event, n.Severity)
	return nil
}

func notification(sc *Context) Notification {
	ev, env, version := "release.succeeded", sc.Environment(), sc.Run.Version
	if t := sc.Run.Event; t != nil {
		ev, version = t.Name, firstNonEmpty(version, t.Data["version"])
		if sc.String("environment") == "" && (sc.Step == nil || sc.Step.Environment == "") {
			env = firstNonEmpty(t.Environment, env)
		}
	}
	ev = firstNonEmpty(sc.String("event"), ev)
	sev := 3
	if strings.HasSuffix(ev, ".failed") || ev == "alert.firing" {
		sev = 0
	}
	what := strings.TrimSpace(sc.Run.Project + " " + version)
	title, text := headline(sc, what, ev)
	n := Notification{Event: ev, Project: sc.Run.Project, Environment: env, Run: sc.Run.ID,
		Version: version, Channel: sc.String("channel"), Severity: sc.Int("severity", sev),
		Message: firstNonEmpty(sc.String("message"), title), Text: text}
	if ev == "release.succeeded" {
		n.Environments = sc.Run.Environments
	}
	return n
}

// headline is a release notification's title in words ("shop v1.2.0
// failed at build") and, for a failure, its body: each failed step with
// its error and the last lines of its log.
func headline(sc *Context, what, ev string) (title, text string) {
	switch ev {
	case "release.succeeded":
		if len(sc.Run.Environments) > 0 {
			return fmt.Sprintf("%s is live on %s", what, strings.Join(sc.Run.Environments, ", ")), ""
		}
		return what + " released", ""
	case "release.failed":
		var ids, whys []string
		if sc.Failed != nil {
			for _, st := range sc.Failed() {
				ids = append(ids, st.ID)
				if sc.Why != nil {
					whys = append(whys, st.ID+": "+sc.Why(st.ID))
				}
			}
		}
		if len(ids) == 0 {
			return what + " failed", ""
		}
		return fmt.Sprintf("%s failed at %s", what, strings.Join(ids, ", ")), strings.Join(whys, "\n\n")
	}
	return fmt.Sprintf("%s: %s", what, ev), ""
}
