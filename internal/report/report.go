// Package report turns what Phoenix already stores (metrics, alerts,
// deployments, release runs and their security gates, users and tokens,
// the audit log) into a compliance and performance report for a window of
// time: the seed's "Compliance and Reporting". Every figure is computed
// from stored data when the report is built; a section without data says
// so instead of showing zeros that look like measurements.
package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// Section names, in the order a report shows them.
const (
	SecPerformance = "performance"
	SecDelivery    = "delivery"
	SecIncidents   = "incidents"
	SecSecurity    = "security"
	SecAccess      = "access"
	SecAudit       = "audit"
)

// AllSections lists every section.
var AllSections = []string{SecPerformance, SecDelivery, SecIncidents, SecSecurity, SecAccess, SecAudit}

// Metrics reads the monitor's stored series (*monitor.Store).
type Metrics interface {
	Query(ctx context.Context, prefix string, from, to time.Time) (map[string]monitor.Agg, error)
	Buckets(ctx context.Context, series string, from, to time.Time, step time.Duration) ([]monitor.Agg, error)
	First(ctx context.Context, prefix string) (time.Time, error)
}

// Alerts reads alert history and objectives (*monitor.Monitor).
type Alerts interface {
	HistoryBetween(ctx context.Context, from, to time.Time) ([]monitor.AlertEvent, error)
	AvailabilityTargets() map[string]float64
}

// Deployments reads activations and what is live (*deploy.Service).
type Deployments interface {
	Activations(ctx context.Context, project string) ([]deploy.Activation, error)
	Live(ctx context.Context, project string) ([]deploy.Deployment, error)
}

// Runs reads release runs and their gates (*pipeline.Service).
type Runs interface {
	ReleaseRuns(ctx context.Context, project string, from, to time.Time) ([]pipeline.Run, error)
	ReleaseRun(ctx context.Context, project, version string) (*pipeline.Run, error)
	Get(ctx context.Context, id int64) (*pipeline.RunDetail, error)
	Gates(ctx context.Context, id int64) (*pipeline.Gates, error)
}

// Users reads users and tokens (*auth.Service); neither carries a secret.
type Users interface {
	Users(ctx context.Context) ([]auth.User, error)
	Tokens(ctx context.Context, user string) ([]auth.Token, error)
}

// AuditLog reads the audit log (*audit.Log).
type AuditLog interface {
	Counts(ctx context.Context, from, to time.Time) ([]audit.ActionCount, error)
	LastSuccess(ctx context.Context, action string, before time.Time) (map[string]time.Time, error)
	Between(ctx context.Context, from, to time.Time, sel audit.Selection, limit int) ([]audit.Record, error)
	Verify(ctx context.Context) (*audit.Report, error)
}

// Sources are where a report reads from. A nil source leaves the sections
// that need it out, with a note.
type Sources struct {
	Now         func() time.Time // default time.Now
	Metrics     Metrics
	Alerts      Alerts
	Deployments Deployments
	Runs        Runs
	Users       Users
	Audit       AuditLog
}

// Options choose the window, the project and the sections, and what the
// caller may see.
type Options struct {
	From, To time.Time
	Project  string   // "" for every project
	Sections []string // nil for every section
	// CanRead says whether the caller may read a project's environment;
	// nil allows everything. Environments it refuses are left out.
	CanRead func(project, env string) bool
	// AccessReview and AuditRead are whether the caller holds
	// users.manage and audit.read; without them those sections are left
	// out with a note.
	AccessReview, AuditRead bool
}

// Report is the whole report. Sections not asked for, or left out, are nil;
// Notes says why a section is missing.
type Report struct {
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	GeneratedAt time.Time     `json:"generated_at"`
	Project     string        `json:"project,omitempty"`
	Sections    []string      `json:"sections"`
	Performance *Performance  `json:"performance,omitempty"`
	Delivery    *Delivery     `json:"delivery,omitempty"`
	Incidents   *Incidents    `json:"incidents,omitempty"`
	Security    *Security     `json:"security,omitempty"`
	Access      *Access       `json:"access,omitempty"`
	Audit       *AuditSection `json:"audit,omitempty"`
	Notes       []string      `json:"notes,omitempty"`
}

// Build computes the report o asks for from src.
func Build(ctx context.Context, src Sources, o Options) (*Report, error) {
	if src.Now == nil {
		src.Now = time.Now
	}
	if !o.From.Before(o.To) {
		return nil, errors.New("report: the window's start must be before its end")
	}
	if o.CanRead == nil {
		o.CanRead = func(string, string) bool { return true }
	}
	secs, err := ParseSections(o.Sections)
	if err != nil {
		return nil, err
	}
	r := &Report{From: o.From.UTC(), To: o.To.UTC(), GeneratedAt: src.Now().UTC(), Project: o.Project, Sections: secs}
	b := &builder{src: src, o: o, r: r}
	for _, s := range secs {
		if err := b.section(ctx, s); err != nil {
			return nil, fmt.Errorf("report: %s: %w", s, err)
		}
	}
	return r, nil
}

type builder struct {
	src Sources
	o   Options
	r   *Report
	inc *Incidents // computed once, for incidents and delivery
}

func (b *builder) note(format string, args ...any) {
	b.r.Notes = append(b.r.Notes, fmt.Sprintf(format, args...))
}

func (b *builder) section(ctx context.Context, s string) (err error) {
	switch s {
	case SecPerformance:
		b.r.Performance, err = b.performance(ctx)
	case SecDelivery:
		b.r.Delivery, err = b.delivery(ctx)
	case SecIncidents:
		b.r.Incidents, err = b.incidents(ctx)
	case SecSecurity:
		b.r.Security, err = b.security(ctx)
	case SecAccess:
		b.r.Access, err = b.access(ctx)
	case SecAudit:
		b.r.Audit, err = b.auditSection(ctx)
	}
	return err
}

// projectOf splits a monitor environment name ("production.shop") into
// project and environment; the server's own series have neither.
func projectOf(monitorEnv string) (project, env string) {
	for i := 0; i < len(monitorEnv); i++ {
		if monitorEnv[i] == '.' {
			return monitorEnv[i+1:], monitorEnv[:i]
		}
	}
	return "", monitorEnv
}

// visible says whether a project's environment belongs in the report.
func (b *builder) visible(project, env string) bool {
	if b.o.Project != "" && project != b.o.Project {
		return false
	}
	return b.o.CanRead(project, env)
}

// runVisible says whether a run belongs in the report: the caller may
// read every environment it acts on, as for the run itself in the API.
func (b *builder) runVisible(r *pipeline.Run) bool {
	return r.VisibleWith(func(env string) bool { return b.visible(r.Project, env) })
}
