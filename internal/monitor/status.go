package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Health values of an environment or endpoint.
const (
	HealthUp          = "up"
	HealthDegraded    = "degraded" // some endpoints down, or alerts firing
	HealthDown        = "down"     // every endpoint down
	HealthMaintenance = "maintenance"
	HealthUnknown     = "unknown" // no data yet
)

// SLA is availability in percent over the usual periods; nil without data.
// Since is set when monitoring began within the longest period (30 days):
// a period that started before it is measured only since then, so the
// figures of a server watched for two days are two days'.
type SLA struct {
	Day   *float64  `json:"24h"`
	Week  *float64  `json:"7d"`
	Month *float64  `json:"30d"`
	Since time.Time `json:"since,omitzero"`
}

// SLA periods.
const (
	SLADay   = 24 * time.Hour
	SLAWeek  = 7 * SLADay
	SLAMonth = 30 * SLADay
)

// Partial reports whether the figure over period ending at now covers
// less than the period: monitoring began after it started.
func (s SLA) Partial(period time.Duration, now time.Time) bool {
	return !s.Since.IsZero() && s.Since.After(now.Add(-period))
}

// EndpointStatus is one probe's state.
type EndpointStatus struct {
	Target      string    `json:"target"`
	Name        string    `json:"name"`
	Environment string    `json:"environment"`
	Up          bool      `json:"up"`
	LastCheck   time.Time `json:"last_check"`
	Error       string    `json:"error,omitempty"`  // why the last check failed, in full; never on the public page
	Reason      string    `json:"reason,omitempty"` // the same in public terms: timed out, unreachable, HTTP 503 (public.go)
	ResponseMS  float64   `json:"response_ms"`
	// CertDaysLeft is the whole days until the server's certificate
	// expires, as a certificate's days_left in the API; nil without TLS.
	CertDaysLeft *int `json:"cert_days_left,omitempty"`
	SLA          SLA  `json:"sla"`
}

// EnvStatus is one environment's health, alerts and SLA.
type EnvStatus struct {
	Environment string           `json:"environment"`
	Health      string           `json:"health"`
	Endpoints   []EndpointStatus `json:"endpoints"`
	Alerts      []Alert          `json:"alerts"` // pending and firing
	SLA         SLA              `json:"sla"`    // probes, or edge traffic when there are none
}

// Status reports every environment that has probes, traffic or alerts.
// It reads the database only, so it works in a CLI process too.
func (m *Monitor) Status(ctx context.Context) ([]EnvStatus, error) {
	now := m.opts.Now()
	envs := map[string]*EnvStatus{}
	get := func(name string) *EnvStatus {
		if envs[name] == nil {
			envs[name] = &EnvStatus{Environment: name, Endpoints: []EndpointStatus{}, Alerts: []Alert{}}
		}
		return envs[name]
	}
	last, err := m.lastResults(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range last {
		e := get(r.Environment)
		es := EndpointStatus{Target: r.Target, Name: r.Name, Environment: r.Environment, Up: r.Success, LastCheck: r.Time,
			Error: r.Error, Reason: publicReason(r), ResponseMS: float64(r.Duration.Microseconds()) / 1000}
		if r.CertExpiry > 0 {
			days := int(math.Round(r.CertExpiry.Hours() / 24))
			es.CertDaysLeft = &days
		}
		if es.SLA, err = m.sla(ctx, "probe/"+r.Target, now); err != nil {
			return nil, err
		}
		e.Endpoints = append(e.Endpoints, es)
	}
	edges, err := m.store.Query(ctx, "edge/", now.Add(-30*24*time.Hour), now.Add(time.Millisecond))
	if err != nil {
		return nil, err
	}
	for series := range edges {
		get(envOf(series))
	}
	alerts, err := m.Alerts(ctx, false)
	if err != nil {
		return nil, err
	}
	for _, a := range alerts {
		// The server's own alerts (host, certificates, replicas) are not an
		// environment's: they stay off the status page, which is public.
		if !ServerInstance(a.Environment) {
			get(a.Environment).Alerts = append(get(a.Environment).Alerts, a)
		}
	}
	var out []EnvStatus
	for _, name := range sortedKeys(envs) {
		e := envs[name]
		prefix := "probe/" + name + "/"
		if len(e.Endpoints) == 0 {
			prefix = "edge/" + name
		}
		if e.SLA, err = m.sla(ctx, prefix, now); err != nil {
			return nil, err
		}
		e.Health = m.health(ctx, e)
		out = append(out, *e)
	}
	return out, nil
}

func (m *Monitor) health(ctx context.Context, e *EnvStatus) string {
	if m.InMaintenance(ctx, e.Environment) {
		return HealthMaintenance
	}
	up := 0
	for _, ep := range e.Endpoints {
		if ep.Up {
			up++
		}
	}
	firing := slices.ContainsFunc(e.Alerts, func(a Alert) bool { return a.State == StateFiring })
	switch {
	case len(e.Endpoints) > 0 && up == 0:
		return HealthDown
	case up < len(e.Endpoints) || firing:
		return HealthDegraded
	case len(e.Endpoints) == 0 && e.SLA.Day == nil:
		return HealthUnknown
	}
	return HealthUp
}

// sla computes availability over 24h, 7d and 30d for a series prefix.
func (m *Monitor) sla(ctx context.Context, prefix string, now time.Time) (SLA, error) {
	var out SLA
	to := now.Add(time.Millisecond)
	for _, p := range []struct {
		d   time.Duration
		dst **float64
	}{{SLADay, &out.Day}, {SLAWeek, &out.Week}, {SLAMonth, &out.Month}} {
		a, err := m.store.Total(ctx, prefix, now.Add(-p.d), to)
		if err != nil {
			return out, err
		}
		if a.N > 0 {
			v := a.Availability()
			*p.dst = &v
		}
	}
	if out.Month == nil {
		return out, nil
	}
	first, err := m.store.First(ctx, prefix)
	if err == nil && first.After(now.Add(-SLAMonth)) {
		out.Since = first
	}
	return out, err
}

func (m *Monitor) lastResults(ctx context.Context) ([]Result, error) {
	rows, err := m.opts.DB.QueryContext(ctx, `SELECT result FROM monitor_last ORDER BY environment, name`)
	if err != nil {
		return nil, fmt.Errorf("monitor: latest results: %w", err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var r Result
		if json.Unmarshal([]byte(raw), &r) == nil {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}
