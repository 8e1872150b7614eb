package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/tick"
)

// Publisher queues a message for the channels that want it, or for the
// named channels only. *notify.Dispatcher implements it.
type Publisher interface {
	Publish(ctx context.Context, m notify.Message, only ...string) ([]string, error)
}

// Options configure a Monitor.
type Options struct {
	DB        *store.DB // migrated with Migrations (and notify.Migrations for the Dispatcher)
	Logger    *slog.Logger
	Now       func() time.Time
	Publisher Publisher // where alerts go; nil records them only
	// Audit records acknowledgements and silences in the audit log, in their
	// transaction; nil records nothing.
	Audit func(ctx context.Context, tx *sql.Tx, e AuditEvent) error
	// Edge returns the edge's telemetry (edge.Handler.Snapshot); nil
	// skips request metrics.
	Edge func() []edge.EnvStats
	// Replicas returns the edge telemetry other servers sharing the
	// database published (app's replica telemetry), merged with Edge's;
	// nil: this server's edge only.
	Replicas  func() []EdgeSource
	Proc      string        // proc filesystem for host metrics (default /proc; "-" turns them off)
	Prober    *Prober       // default NewProber()
	EvalEvery time.Duration // alert evaluation (default 5s)
	EdgeEvery time.Duration // edge telemetry sampling (default 10s)
	HostEvery time.Duration // host cpu and memory sampling (default 15s)
	// FlushEvery writes buffered metrics (default 1s).
	FlushEvery time.Duration
	// Certificates lists the certificates the edge serves for the built-in
	// alert CertRule (certs.go); nil turns it off. CertWarning is how long
	// before its expiry a certificate alerts (default DefaultCertWarning).
	Certificates func(ctx context.Context) ([]Certificate, error)
	CertWarning  time.Duration
	// CertOrders lists the domains whose certificate orders keep failing
	// for the built-in alert CertOrderRule (certorders.go); nil turns it
	// off. CertOrderAlert is how long an order fails before it alerts
	// (default DefaultCertOrderAlert).
	CertOrders     func(ctx context.Context) ([]CertOrder, error)
	CertOrderAlert time.Duration
	// ReplicaHealth lists the replicas sharing the database for the
	// built-in alert ReplicaRule (replicas.go); nil turns it off.
	ReplicaHealth func(ctx context.Context) ([]ReplicaHealth, error)
	// Backups reports the backup schedule's state for the built-in alert
	// BackupRule (backups.go); nil turns it off, and a nil BackupHealth
	// means no repository or no schedule.
	Backups func(ctx context.Context) (*BackupHealth, error)
	// Undeliverable lists the projects' channels whose messages fail for
	// good, or that did not load, for the built-in alert
	// UndeliverableRule (undeliverable.go); nil turns it off.
	Undeliverable func(ctx context.Context) ([]Undeliverable, error)
	// Storage checks the server's folders and state store for the
	// built-in alerts DiskRule and StoreWriteRule (storage.go); nil turns
	// them off.
	Storage func(ctx context.Context) (*StorageHealth, error)
	// Blobs reports what the last check of the blob store found for the
	// built-in alert BlobRule (blobs.go); nil turns it off, and known is
	// false before the first check.
	Blobs func(ctx context.Context) (damage []BlobDamage, known bool, err error)
	// Concurrency bounds probes in flight (default 2048; probes that were
	// slow last time get another quarter of it).
	Concurrency int
}

// Monitor runs probes, samples telemetry, stores metrics and evaluates
// alert rules.
type Monitor struct {
	opts  Options
	store *Store
	sched *scheduler
	hosts hostSampler
	edges edgeCollector

	mu    sync.Mutex
	rules []Rule
	// removed are the rules a SetRules dropped, by name and environment:
	// the next evaluation resolves their alerts (retire.go).
	removed []Rule
	targets []Target
	last    map[string]Result // latest result per target ID
	dirty   map[string]bool
	// configured holds the IDs of the probes set (nil until SetTargets);
	// prune asks the next flush to delete the saved results of the others.
	configured map[string]bool
	prune      bool

	amu    sync.Mutex // evaluation
	alerts map[alertKey]*Alert

	resultHook func(Target, Result)
}

// New returns a Monitor. Reading functions (Status, Alerts, History,
// Silences) work without Run, for the CLI.
func New(o Options) (*Monitor, error) {
	if o.DB == nil {
		return nil, errors.New("monitor: Options.DB is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Proc == "" {
		o.Proc = "/proc"
	}
	if o.Prober == nil {
		o.Prober = NewProber()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.EvalEvery, 5*time.Second)
	def(&o.EdgeEvery, 10*time.Second)
	def(&o.HostEvery, 15*time.Second)
	def(&o.FlushEvery, time.Second)
	def(&o.CertWarning, DefaultCertWarning)
	def(&o.CertOrderAlert, DefaultCertOrderAlert)
	if o.Concurrency <= 0 {
		o.Concurrency = 2048
	}
	m := &Monitor{opts: o, store: NewStore(o.DB, o.Now), hosts: hostSampler{proc: o.Proc},
		last: map[string]Result{}, dirty: map[string]bool{}}
	m.sched = newScheduler(o.Prober, o.Concurrency, m.record)
	return m, nil
}

// Store returns the metrics store.
func (m *Monitor) Store() *Store { return m.store }

// SetTargets replaces the probes.
func (m *Monitor) SetTargets(ts []Target) error {
	var out []Target
	for _, t := range ts {
		t, err := t.withDefaults()
		if err != nil {
			return err
		}
		out = append(out, t)
	}
	if err := m.sched.set(out); err != nil {
		return err
	}
	m.mu.Lock()
	m.targets = out
	m.forgetUnconfigured(out)
	m.mu.Unlock()
	return nil
}

// Targets returns the probes SetTargets configured, with their defaults.
func (m *Monitor) Targets() []Target {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.targets)
}

// forgetUnconfigured keeps the latest results of the configured targets
// only, and has the next flush delete the others' saved rows, so a probe
// removed from phoenix.yaml leaves the status page. m.mu is held.
func (m *Monitor) forgetUnconfigured(ts []Target) {
	m.configured = make(map[string]bool, len(ts))
	for _, t := range ts {
		m.configured[t.ID()] = true
	}
	for id := range m.last {
		if !m.configured[id] {
			delete(m.last, id)
			delete(m.dirty, id)
		}
	}
	m.prune = true
}

// SetRules replaces the alert rules.
func (m *Monitor) SetRules(rs []Rule) {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = r.withDefaults()
	}
	m.mu.Lock()
	m.noteRemoved(m.rules, out)
	m.rules = out
	m.mu.Unlock()
}

func (m *Monitor) rulesSnapshot() []Rule {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rules
}

// Configure loads probes (monitor.endpoints) and rules (monitor.alerts and
// alert_config) from phoenix.yaml. base resolves path-only probe URLs
// against an environment (see FromEndpoint).
func (m *Monitor) Configure(cfg *config.Config, base Resolver) error {
	var ts []Target
	for _, e := range cfg.Monitor.Endpoints {
		t, err := FromEndpoint(e, "", base)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if err := m.SetTargets(ts); err != nil {
		return err
	}
	m.SetRules(RulesFromConfig(cfg.Monitor))
	return nil
}

// OnResult registers fn to see every probe result (after it is recorded);
// fn must not block.
func (m *Monitor) OnResult(fn func(Target, Result)) {
	m.mu.Lock()
	m.resultHook = fn
	m.mu.Unlock()
}

// record stores a probe result.
func (m *Monitor) record(t Target, r Result) {
	good := int64(0)
	if r.Success {
		good = 1
	}
	ms := float64(r.Duration) / float64(time.Millisecond)
	m.store.Add(Point{Series: "probe/" + t.ID(), Time: r.Time, Agg: Agg{N: 1, Good: good, Sum: ms, Min: ms, Max: ms}})
	m.mu.Lock()
	if m.configured == nil || m.configured[t.ID()] { // not a run that ended after its probe was removed
		m.last[t.ID()] = r
		m.dirty[t.ID()] = true
	}
	hook := m.resultHook
	m.mu.Unlock()
	if !r.Success {
		m.opts.Logger.Warn("monitor: probe failed", "probe", t.ID(), "error", r.Error, "attempts", r.Attempts)
	}
	if hook != nil {
		hook(t, r)
	}
}

// Run works until ctx ends: probes, telemetry, metrics, alerts and pruning.
func (m *Monitor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	every := func(d time.Duration, fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick.Every(ctx, d, fn)
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); m.sched.run(ctx) }()
	every(m.opts.FlushEvery, func(ctx context.Context) { m.logErr("flush", m.flush(ctx)) })
	every(m.opts.EvalEvery, func(ctx context.Context) { m.logErr("evaluate alerts", m.Evaluate(ctx)) })
	if m.opts.Edge != nil {
		m.edges.collect(m.edgeSources(), m.opts.Now())
		every(m.opts.EdgeEvery, func(context.Context) { m.SampleEdge() })
	}
	if m.opts.Proc != "-" {
		m.SampleHost()
		every(m.opts.HostEvery, func(context.Context) { m.SampleHost() })
	}
	every(time.Hour, func(ctx context.Context) { m.logErr("prune", m.store.Prune(ctx)) })
	wg.Wait()
	m.opts.Prober.Close() // no connection left to the edge, whose shutdown waits for them
	m.logErr("final flush", m.flush(context.WithoutCancel(ctx)))
}

func (m *Monitor) logErr(what string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		m.opts.Logger.Error("monitor: "+what, "error", err.Error())
	}
}

// Evaluate flushes metrics and runs every alert rule once.
func (m *Monitor) Evaluate(ctx context.Context) error {
	if err := m.flush(ctx); err != nil {
		return err
	}
	return m.evaluate(ctx)
}

// SampleEdge records the edges' requests since the previous sample.
func (m *Monitor) SampleEdge() {
	if m.opts.Edge == nil {
		return
	}
	for _, p := range m.edges.collect(m.edgeSources(), m.opts.Now()) {
		m.store.Add(p)
	}
}

// edgeSources is this server's edge telemetry and the other servers'.
func (m *Monitor) edgeSources() []EdgeSource {
	out := []EdgeSource{{Stats: m.opts.Edge()}}
	if m.opts.Replicas != nil {
		out = append(out, m.opts.Replicas()...)
	}
	return out
}

// SampleHost records cpu and memory use.
func (m *Monitor) SampleHost() {
	cpu, cpuOK, mem, err := m.hosts.sample()
	now := m.opts.Now()
	if cpuOK {
		m.store.Add(Point{Series: "host/cpu", Time: now, Agg: Agg{N: 1, Good: 1, Sum: cpu, Min: cpu, Max: cpu}})
	}
	if err != nil {
		m.opts.Logger.Debug("monitor: host metrics", "error", err.Error())
		return
	}
	m.store.Add(Point{Series: "host/memory", Time: now, Agg: Agg{N: 1, Good: 1, Sum: mem, Min: mem, Max: mem}})
}

// flush writes metrics and the latest probe results.
func (m *Monitor) flush(ctx context.Context) error {
	if err := m.store.Flush(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	var rs []Result
	for id := range m.dirty {
		rs = append(rs, m.last[id])
	}
	keep, prune := m.configured, m.prune
	m.dirty, m.prune = map[string]bool{}, false
	m.mu.Unlock()
	if len(rs) == 0 && !prune {
		return nil
	}
	var removed []string
	err := m.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := saveLast(ctx, tx, rs); err != nil {
			return err
		}
		var err error
		if prune {
			removed, err = pruneLast(ctx, tx, keep)
		}
		return err
	})
	if err != nil && prune {
		m.mu.Lock()
		m.prune = true // try again at the next flush
		m.mu.Unlock()
	}
	for _, id := range removed {
		m.opts.Logger.Info("monitor: probe no longer configured; its status removed", "probe", id)
	}
	return err
}

func saveLast(ctx context.Context, tx *sql.Tx, rs []Result) error {
	for _, r := range rs {
		b, _ := json.Marshal(r)
		_, err := tx.ExecContext(ctx, `INSERT INTO monitor_last (target, environment, name, at, success, result)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (target) DO UPDATE SET at = excluded.at,
			success = excluded.success, result = excluded.result`, r.Target, r.Environment, r.Name, r.Time.UnixMilli(), boolInt(r.Success), string(b))
		if err != nil {
			return fmt.Errorf("monitor: save result of %s: %w", r.Target, err)
		}
	}
	return nil
}

// pruneLast deletes the saved results of the probes not in keep and
// returns their IDs.
func pruneLast(ctx context.Context, tx *sql.Tx, keep map[string]bool) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT target FROM monitor_last`)
	if err != nil {
		return nil, fmt.Errorf("monitor: latest results: %w", err)
	}
	var gone []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		if !keep[id] {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_last WHERE target = $1`, id); err != nil {
			return nil, fmt.Errorf("monitor: remove the result of %s: %w", id, err)
		}
	}
	return gone, nil
}
