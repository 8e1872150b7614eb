package report

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// Delivery is the DORA view of the window: how often and how safely
// changes reached the environments.
type Delivery struct {
	Environments []EnvDelivery `json:"environments"`
	Deployments  int           `json:"deployments"`
	// Failed counts the window's deployments that were later rolled back
	// (by hand, by a release's failed health check or by deploy
	// verification); ChangeFailurePct is Failed / Deployments.
	Failed           int      `json:"failed"`
	ChangeFailurePct *float64 `json:"change_failure_pct,omitempty"`
	Rollbacks        int      `json:"rollbacks"`
	PerDay           float64  `json:"deployments_per_day"`
	// Releases are the release runs created in the window, by status.
	Releases      int            `json:"releases"`
	ReleaseStatus map[string]int `json:"release_status,omitempty"`
	// MedianReleaseSeconds is the median of finished release runs' start
	// to finish.
	MedianReleaseSeconds *float64 `json:"median_release_seconds,omitempty"`
	// MedianRestoreSeconds is the incidents' median firing-to-resolved.
	MedianRestoreSeconds *float64 `json:"median_restore_seconds,omitempty"`
	MeanRestoreSeconds   *float64 `json:"mean_restore_seconds,omitempty"`
	Note                 string   `json:"note,omitempty"`
}

// EnvDelivery is one environment's deployments in the window.
type EnvDelivery struct {
	Project          string   `json:"project"`
	Environment      string   `json:"environment"`
	Deployments      int      `json:"deployments"`
	Failed           int      `json:"failed"`
	Rollbacks        int      `json:"rollbacks"`
	ChangeFailurePct *float64 `json:"change_failure_pct,omitempty"`
	Releases         []string `json:"releases,omitempty"` // distinct releases deployed, in order
}

func (b *builder) delivery(ctx context.Context) (*Delivery, error) {
	if b.src.Deployments == nil {
		b.note("delivery: left out: this server has no deployments")
		return nil, nil
	}
	acts, err := b.src.Deployments.Activations(ctx, b.o.Project)
	if err != nil {
		return nil, err
	}
	d := &Delivery{Environments: []EnvDelivery{}}
	envs := map[string]*EnvDelivery{}
	var order []string
	failed := rolledBack(acts)
	for _, a := range acts {
		if a.At.Before(b.o.From) || !a.At.Before(b.o.To) || !b.visible(a.Project, a.Environment) {
			continue
		}
		key := a.Project + "/" + a.Environment
		e := envs[key]
		if e == nil {
			e = &EnvDelivery{Project: a.Project, Environment: a.Environment}
			envs[key] = e
			order = append(order, key)
		}
		b.count(d, e, a, failed)
	}
	for _, k := range order {
		e := envs[k]
		e.ChangeFailurePct = pct(e.Failed, e.Deployments)
		d.Environments = append(d.Environments, *e)
	}
	d.ChangeFailurePct = pct(d.Failed, d.Deployments)
	d.PerDay = round(float64(d.Deployments)/(b.o.To.Sub(b.o.From).Hours()/24), 3)
	if err := b.releases(ctx, d); err != nil {
		return nil, err
	}
	inc, err := b.computeIncidents(ctx)
	if err != nil {
		return nil, err
	}
	if inc != nil {
		d.MeanRestoreSeconds, d.MedianRestoreSeconds = inc.MeanRestoreSeconds, inc.MedianRestoreSeconds
	}
	if d.Deployments == 0 && d.Releases == 0 {
		d.Note = "no deployment, rollback or release run in the window"
	}
	return d, nil
}

func (b *builder) count(d *Delivery, e *EnvDelivery, a deploy.Activation, failed map[int64]bool) {
	if a.Action == "rollback" {
		e.Rollbacks++
		d.Rollbacks++
		return
	}
	e.Deployments++
	d.Deployments++
	if failed[a.Deployment] {
		e.Failed++
		d.Failed++
	}
	if a.Release != "" && (len(e.Releases) == 0 || e.Releases[len(e.Releases)-1] != a.Release) {
		e.Releases = append(e.Releases, a.Release)
	}
}

// rolledBack returns the deployments a rollback moved an environment
// away from: walking each environment's activations in order, the one
// active when a rollback to an earlier deployment happened failed. A
// rollback to a later one ('phoenix rollback --to' back to the release
// rolled back from) rolls forward: the one it leaves did not fail.
func rolledBack(acts []deploy.Activation) map[int64]bool {
	active := map[string]int64{}
	out := map[int64]bool{}
	for _, a := range acts {
		key := a.Project + "/" + a.Environment
		if a.Action == "rollback" && active[key] != 0 && a.Deployment < active[key] {
			out[active[key]] = true
		}
		active[key] = a.Deployment
	}
	return out
}

func (b *builder) releases(ctx context.Context, d *Delivery) error {
	if b.src.Runs == nil {
		return nil
	}
	runs, err := b.src.Runs.ReleaseRuns(ctx, b.o.Project, b.o.From, b.o.To)
	if err != nil {
		return err
	}
	var secs []float64
	for _, r := range runs {
		if !b.runVisible(&r) {
			continue
		}
		d.Releases++
		if d.ReleaseStatus == nil {
			d.ReleaseStatus = map[string]int{}
		}
		d.ReleaseStatus[r.Status]++
		if pipeline.Finished(r.Status) && !r.Started.IsZero() && !r.Finished.IsZero() {
			secs = append(secs, r.Finished.Sub(r.Started).Seconds())
		}
	}
	d.MedianReleaseSeconds = median(secs)
	return nil
}

func pct(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := round(100*float64(n)/float64(of), 2)
	return &v
}
