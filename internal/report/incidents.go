package report

import (
	"context"
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// Incidents are the alerts that fired in the window.
type Incidents struct {
	Alerts   []Incident `json:"alerts"`
	Fired    int        `json:"fired"`
	Resolved int        `json:"resolved"`
	Open     int        `json:"open"`
	// MeanRestoreSeconds and MedianRestoreSeconds are over the resolved
	// ones (firing to resolved); MeanAckSeconds over the acknowledged.
	MeanRestoreSeconds   *float64 `json:"mean_restore_seconds,omitempty"`
	MedianRestoreSeconds *float64 `json:"median_restore_seconds,omitempty"`
	MeanAckSeconds       *float64 `json:"mean_ack_seconds,omitempty"`
	Note                 string   `json:"note,omitempty"`
}

// Incident is one firing of an alert: from its firing to its resolution
// (or inactivity), or still open when the report was built.
type Incident struct {
	ID          string     `json:"id"` // RULE@ENV
	Rule        string     `json:"rule"`
	Project     string     `json:"project,omitempty"`
	Environment string     `json:"environment"` // "host" for the server's own alerts
	Severity    int        `json:"severity"`
	Summary     string     `json:"summary,omitempty"`
	Silenced    bool       `json:"silenced,omitempty"`
	Fired       time.Time  `json:"fired"`
	Resolved    *time.Time `json:"resolved,omitempty"`
	// DurationSeconds runs to the resolution, or to the report's build
	// time while the alert is open.
	DurationSeconds float64    `json:"duration_seconds"`
	Open            bool       `json:"open"`
	AckBy           string     `json:"ack_by,omitempty"`
	AckAt           *time.Time `json:"ack_at,omitempty"`
	// AckSeconds is firing to acknowledgement (0 when it was acknowledged
	// while still pending).
	AckSeconds *float64 `json:"ack_seconds,omitempty"`
}

// SeverityName names an alert severity (0 critical … 4 verbose).
func SeverityName(s int) string {
	names := []string{"critical", "error", "warning", "informational", "verbose"}
	if s >= 0 && s < len(names) {
		return names[s]
	}
	return "unknown"
}

// episodeLead is how far before the window an alert's pending state may
// lie and still start an episode that fires in the window.
const episodeLead = 24 * time.Hour

func (b *builder) incidents(ctx context.Context) (*Incidents, error) {
	if b.src.Alerts == nil {
		b.note("incidents: left out: this server has no monitor")
		return nil, nil
	}
	return b.computeIncidents(ctx)
}

// computeIncidents builds the incidents once (delivery reads their
// restore times too); nil without a monitor.
func (b *builder) computeIncidents(ctx context.Context) (*Incidents, error) {
	if b.inc != nil || b.src.Alerts == nil {
		return b.inc, nil
	}
	now := b.r.GeneratedAt
	hist, err := b.src.Alerts.HistoryBetween(ctx, b.o.From.Add(-episodeLead), now.Add(time.Millisecond))
	if err != nil {
		return nil, err
	}
	acks, err := b.acks(ctx, now)
	if err != nil {
		return nil, err
	}
	inc := &Incidents{Alerts: []Incident{}}
	for i, e := range hist {
		if e.State != monitor.StateFiring || e.At.Before(b.o.From) || !e.At.Before(b.o.To) {
			continue
		}
		project, env := projectOf(e.Environment)
		if e.Environment == "" {
			env = "host"
		}
		if e.Environment != "" && !b.visible(project, env) || e.Environment == "" && b.o.Project != "" {
			continue
		}
		in := Incident{ID: monitor.AlertID(e.Rule, e.Environment), Rule: e.Rule, Project: project, Environment: env,
			Severity: e.Severity, Summary: e.Summary, Silenced: e.Silenced, Fired: e.At}
		start := episodeStart(hist, i)
		end := now
		if r := episodeEnd(hist, i); r != nil {
			end, in.Resolved = r.At, &r.At
		}
		in.Open = in.Resolved == nil
		in.DurationSeconds = end.Sub(e.At).Seconds()
		if a := firstAck(acks[in.ID], start, end); a != nil {
			in.AckBy, in.AckAt = a.Actor, &a.At
			s := max(0, a.At.Sub(e.At).Seconds())
			in.AckSeconds = &s
		}
		inc.Alerts = append(inc.Alerts, in)
	}
	summarize(inc)
	b.inc = inc
	return inc, nil
}

// acks reads the acknowledgements (audit action alert.ack) by alert id.
func (b *builder) acks(ctx context.Context, now time.Time) (map[string][]audit.Record, error) {
	out := map[string][]audit.Record{}
	if b.src.Audit == nil {
		return out, nil
	}
	recs, err := b.src.Audit.Between(ctx, b.o.From.Add(-episodeLead), now.Add(time.Millisecond),
		audit.Selection{Prefixes: []string{"alert.ack"}}, 100000)
	for _, r := range recs {
		if r.Action == "alert.ack" && r.Outcome == audit.OK {
			out[r.Target] = append(out[r.Target], r)
		}
	}
	return out, err
}

// episodeStart is when the episode that fired at hist[i] went pending.
func episodeStart(hist []monitor.AlertEvent, i int) time.Time {
	e := hist[i]
	start := e.At
	for j := i - 1; j >= 0; j-- {
		p := hist[j]
		if p.Rule != e.Rule || p.Environment != e.Environment {
			continue
		}
		if p.State != monitor.StatePending {
			break
		}
		start = p.At
	}
	return start
}

// episodeEnd is the event that resolved (or inactivated) hist[i]'s alert.
func episodeEnd(hist []monitor.AlertEvent, i int) *monitor.AlertEvent {
	e := hist[i]
	for j := i + 1; j < len(hist); j++ {
		n := hist[j]
		if n.Rule == e.Rule && n.Environment == e.Environment && (n.State == monitor.StateResolved || n.State == monitor.StateInactive) {
			return &hist[j]
		}
	}
	return nil
}

func firstAck(recs []audit.Record, from, to time.Time) *audit.Record {
	for i := range recs {
		if !recs[i].At.Before(from) && !recs[i].At.After(to) {
			return &recs[i]
		}
	}
	return nil
}

func summarize(inc *Incidents) {
	var restore, ack []float64
	for _, a := range inc.Alerts {
		inc.Fired++
		if a.Open {
			inc.Open++
		} else {
			inc.Resolved++
			restore = append(restore, a.DurationSeconds)
		}
		if a.AckSeconds != nil {
			ack = append(ack, *a.AckSeconds)
		}
	}
	inc.MeanRestoreSeconds, inc.MedianRestoreSeconds = mean(restore), median(restore)
	inc.MeanAckSeconds = mean(ack)
	if inc.Fired == 0 {
		inc.Note = "no alert fired in the window"
	}
}

func mean(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	m := round(s/float64(len(v)), 3)
	return &m
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	m = round(m, 3)
	return &m
}
