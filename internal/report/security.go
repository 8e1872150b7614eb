package report

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Security is what the release gates found in each project's newest
// release of the window and in the release live in production.
type Security struct {
	Releases []ReleaseSecurity `json:"releases"`
	Note     string            `json:"note,omitempty"`
}

// ReleaseSecurity is one release's gate results (from its release run).
type ReleaseSecurity struct {
	Project string   `json:"project"`
	Version string   `json:"version"`
	Why     []string `json:"why"` // newest in window, live in production
	Run     int64    `json:"run,omitempty"`
	Status  string   `json:"run_status,omitempty"`
	// Vulnerabilities, Licenses and Secrets are the dependency audit,
	// licence and secret-scan gates; nil when the run had no such step.
	Vulnerabilities *pipeline.GateResult `json:"vulnerabilities,omitempty"`
	Licenses        *pipeline.GateResult `json:"licenses,omitempty"`
	Secrets         *pipeline.GateResult `json:"secrets,omitempty"`
	SBOM            bool                 `json:"sbom"`
	SBOMStatus      string               `json:"sbom_status,omitempty"`
	// Disabled are the gates phoenix.yaml turned off for this release
	// (checks.NAME.enabled: false), as its run's plan recorded them: a
	// gate turned off, not one silently absent.
	Disabled   []spec.DisabledCheck `json:"disabled,omitempty"`
	Exceptions []Exception          `json:"exceptions,omitempty"`
	Note       string               `json:"note,omitempty"`
}

// Exception is a finding a phoenix.yaml exception accepted in that run.
type Exception struct {
	Gate    string    `json:"gate"`
	Text    string    `json:"text"`
	Expires time.Time `json:"expires,omitzero"`
	// DaysLeft counts from the report's end to the end of the expiry day;
	// negative once it expired.
	DaysLeft *int `json:"days_left,omitempty"`
}

const whyNewest, whyLive = "newest release in the window", "live in production"

func (b *builder) security(ctx context.Context) (*Security, error) {
	if b.src.Runs == nil {
		b.note("security: left out: this server runs no release pipeline")
		return nil, nil
	}
	s := &Security{Releases: []ReleaseSecurity{}}
	var picks []ReleaseSecurity
	runs, err := b.src.Runs.ReleaseRuns(ctx, b.o.Project, b.o.From, b.o.To)
	if err != nil {
		return nil, err
	}
	newest := map[string]pipeline.Run{}
	for _, r := range runs {
		if b.runVisible(&r) {
			newest[r.Project] = r // oldest first: the last one stays
		}
	}
	for _, p := range sortedKeys(newest) {
		r := newest[p]
		picks = append(picks, ReleaseSecurity{Project: p, Version: r.Version, Why: []string{whyNewest}, Run: r.ID, Status: r.Status})
	}
	if picks, err = b.liveReleases(ctx, picks); err != nil {
		return nil, err
	}
	for _, p := range picks {
		if err := b.gates(ctx, &p); err != nil {
			return nil, err
		}
		s.Releases = append(s.Releases, p)
	}
	if len(s.Releases) == 0 {
		s.Note = "no release run in the window and no release live in production"
	}
	return s, nil
}

// liveReleases adds the release each project's production environment
// serves, or marks the pick that is already it.
func (b *builder) liveReleases(ctx context.Context, picks []ReleaseSecurity) ([]ReleaseSecurity, error) {
	if b.src.Deployments == nil {
		return picks, nil
	}
	live, err := b.src.Deployments.Live(ctx, b.o.Project)
	if err != nil {
		return nil, err
	}
	for _, d := range live {
		if d.Environment != "production" || !b.visible(d.Project, d.Environment) {
			continue
		}
		// The run whose deploy step made it; 0 for phoenix deploy. Another
		// run of the same version (a release of it again that failed at
		// validate-tag, say) is not what production serves.
		runID, _ := strconv.ParseInt(d.Run, 10, 64)
		found := false
		for i := range picks {
			if picks[i].Project == d.Project && picks[i].Version == d.Release && d.Release != "" && (runID == 0 || picks[i].Run == runID) {
				picks[i].Why, found = append(picks[i].Why, whyLive), true
			}
		}
		if found {
			continue
		}
		p := ReleaseSecurity{Project: d.Project, Version: d.Release, Why: []string{whyLive}}
		r, err := b.liveRun(ctx, d, runID)
		if err != nil {
			return nil, err
		}
		switch {
		case r != nil && b.runVisible(r):
			p.Run, p.Status = r.ID, r.Status
		case r != nil:
			p.Note = "its release run also acts on environments you may not read: no gate results"
		}
		picks = append(picks, p)
	}
	return picks, nil
}

// liveRun is the release run behind live deployment d: the run that made
// it (runID; nil when retention pruned it), else, for a deployment that
// names none (phoenix deploy of a release's artifact), the newest release
// run of its version.
func (b *builder) liveRun(ctx context.Context, d deploy.Deployment, runID int64) (*pipeline.Run, error) {
	if runID != 0 {
		rd, err := b.src.Runs.Get(ctx, runID)
		if usererr.KindOf(err) == usererr.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &rd.Run, nil
	}
	if d.Release == "" {
		return nil, nil
	}
	return b.src.Runs.ReleaseRun(ctx, d.Project, d.Release)
}

// gates fills p from its run's gate steps.
func (b *builder) gates(ctx context.Context, p *ReleaseSecurity) error {
	if p.Run == 0 {
		if p.Note == "" {
			p.Note = "no release run is recorded for this release (deployed without the pipeline, or its run was pruned): no gate results"
		}
		return nil
	}
	g, err := b.src.Runs.Gates(ctx, p.Run)
	if err != nil {
		return err
	}
	p.Vulnerabilities, p.Licenses, p.Secrets, p.SBOM, p.SBOMStatus = g.Audit, g.Licenses, g.Secrets, g.SBOM, g.SBOMStatus
	p.Disabled = g.Disabled
	for _, gr := range []*pipeline.GateResult{g.Audit, g.Licenses, g.Secrets} {
		if gr == nil {
			continue
		}
		for _, e := range gr.Exceptions {
			x := Exception{Gate: gr.Step, Text: e.Text, Expires: e.Expires}
			if !e.Expires.IsZero() {
				d := int(math.Ceil(e.Expires.Add(24*time.Hour).Sub(b.o.To).Hours() / 24))
				x.DaysLeft = &d
			}
			p.Exceptions = append(p.Exceptions, x)
		}
	}
	if g.Audit == nil && g.Licenses == nil && g.Secrets == nil && g.SBOMStatus == "" {
		p.Note = noGatesNote(g.Disabled)
	}
	return nil
}

// noGatesNote says why a release run had no gate step: the checks its
// plan recorded as disabled, and the others its own pipeline left out.
func noGatesNote(disabled []spec.DisabledCheck) string {
	if len(disabled) == 0 {
		return "the release run had no security gate steps, and records no check as disabled in phoenix.yaml"
	}
	var off, left []string
	for _, name := range config.CheckNames {
		if slices.ContainsFunc(disabled, func(d spec.DisabledCheck) bool { return d.Check == name }) {
			off = append(off, name)
		} else {
			left = append(left, name)
		}
	}
	note := "the release ran no security gate: phoenix.yaml disabled " + strings.Join(off, ", ")
	if len(left) > 0 {
		note += "; its pipeline has no step for " + strings.Join(left, ", ")
	}
	return note
}
