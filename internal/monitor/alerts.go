package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// Alert states.
const (
	StateInactive = "inactive"
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Alert is one alert instance: a rule in one environment.
type Alert struct {
	ID           string    `json:"id"` // RULE@ENV (AlertID)
	Rule         string    `json:"rule"`
	Environment  string    `json:"environment"`
	State        string    `json:"state"`
	Severity     int       `json:"severity"`
	Since        time.Time `json:"since"`
	Value        float64   `json:"value"`
	Threshold    string    `json:"threshold"`
	Summary      string    `json:"summary"`
	LastNotified time.Time `json:"last_notified,omitzero"`
	Silenced     bool      `json:"silenced,omitempty"`
	Ack          *Ack      `json:"ack,omitempty"` // who is on it (ack.go)

	fails, oks int
	dirty      bool
	newEpisode bool // went pending: its acknowledgement ends when saved
	// stored is the alert as its row in the database last had it (loaded
	// or saved): its messages' IDs derive from it (episodeKey), so that a
	// change announced again after a crash, from the same stored state,
	// has the same ID and the delivery log drops it.
	stored storedAlert
}

// storedAlert is what episodeKey reads of an alert's stored row, in Unix
// milliseconds as stored; zero for an alert never stored.
type storedAlert struct{ since, notified int64 }

// storedOf is a's state as saving it stores it.
func storedOf(a *Alert) storedAlert {
	s := storedAlert{since: a.Since.UnixMilli()}
	if !a.LastNotified.IsZero() {
		s.notified = a.LastNotified.UnixMilli()
	}
	return s
}

// episodeKey identifies what t announces of its alert, from the alert's
// stored state before the change: when its stored state began (the
// state the alert leaves, or is in for a resolution: a new value at each
// change) and, for a repeat reminder, when it was last announced. Every
// change of an alert has a key of its own, and evaluating the same
// stored state again (after a restart that lost the change) gives the
// same one.
func episodeKey(t transition) string {
	if t.kind == "repeat" {
		return fmt.Sprintf("%d.%d", t.alert.stored.since, t.alert.stored.notified)
	}
	return fmt.Sprint(t.alert.stored.since)
}

// AlertEvent is one entry of the alert history.
type AlertEvent struct {
	ID          int64     `json:"id"`
	Rule        string    `json:"rule"`
	Environment string    `json:"environment"`
	State       string    `json:"state"`
	Severity    int       `json:"severity"`
	Value       float64   `json:"value"`
	Threshold   string    `json:"threshold"`
	At          time.Time `json:"at"`
	Silenced    bool      `json:"silenced,omitempty"`
	Summary     string    `json:"summary"`
}

type alertKey struct{ rule, env string }

// transition is a change worth a notification.
type transition struct {
	rule  Rule
	alert *Alert
	kind  string        // firing, resolved, repeat
	ack   *Ack          // the alert's acknowledgement, if any
	fired time.Time     // resolved: when it had fired
	down  []notify.Fact // an availability alert's: its environment's probes that are down (downProbes)
}

// evaluate runs every rule once at now and notifies about changes.
func (m *Monitor) evaluate(ctx context.Context) error { return m.evaluateRules(ctx, false) }

// EvaluateUndeliverable runs the built-in notify-undeliverable rule alone,
// now: after a channel's test message got through (phoenix notify test),
// its alert resolves at once rather than at the next evaluation. The
// other rules are left for their schedule, so their failure counts do not
// move.
func (m *Monitor) EvaluateUndeliverable(ctx context.Context) error { return m.evaluateRules(ctx, true) }

// evaluateRules is evaluate, of the notify-undeliverable rule only when
// undeliverableOnly.
func (m *Monitor) evaluateRules(ctx context.Context, undeliverableOnly bool) error {
	now := m.opts.Now()
	m.amu.Lock()
	defer m.amu.Unlock()
	if err := m.loadAlerts(ctx); err != nil {
		return err
	}
	var changes []transition
	var history []AlertEvent
	apply := func(r Rule, values map[string]float64) {
		for env := range m.instancesOf(r.Name) {
			if _, ok := values[env]; !ok && (r.Environment == "" || r.Environment == env) {
				values[env] = noData
			}
		}
		for _, env := range sortedKeys(values) {
			t, ev := m.step(r, env, values[env], now)
			history = append(history, ev...)
			if t != nil {
				changes = append(changes, *t)
			}
		}
	}
	if !undeliverableOnly {
		if err := m.applyRules(ctx, now, apply); err != nil {
			return err
		}
	}
	if values, details, ok := m.undeliverableValues(ctx); ok {
		r := undeliverableRule()
		r.details = details
		apply(r, values)
	}
	if !undeliverableOnly {
		retired, events := m.retire(now)
		changes, history = append(changes, retired...), append(history, events...)
	}
	silenced, err := m.silencedSet(ctx, changes, now)
	if err != nil {
		return err
	}
	for i := range history {
		history[i].Silenced = silenced[alertKey{history[i].Rule, history[i].Environment}]
	}
	acks, err := m.acksOf(ctx, changes)
	if err != nil {
		return err
	}
	for i := range changes {
		changes[i].ack = acks[alertKey{changes[i].alert.Rule, changes[i].alert.Environment}]
		if changes[i].kind != StateResolved && changes[i].rule.Metric == "availability" {
			changes[i].down = m.downProbes(changes[i].alert.Environment)
		}
	}
	sent := m.notifyGroups(ctx, changes, silenced, now)
	for _, t := range sent {
		t.alert.LastNotified, t.alert.dirty = now, true
	}
	return m.saveAlerts(ctx, history)
}

// applyRules computes and applies the values of every rule but the
// built-in notify-undeliverable one: the projects' rules, and the
// server's certificate, certificate order, replica, backup, storage and
// blob rules.
func (m *Monitor) applyRules(ctx context.Context, now time.Time, apply func(Rule, map[string]float64)) error {
	for _, r := range m.rulesSnapshot() {
		values, err := m.ruleValues(ctx, r, now)
		if err != nil {
			return err
		}
		apply(r, values)
	}
	if values, ok := m.certValues(ctx, now); ok {
		apply(m.certRule(), values)
	}
	orders := m.certOrderRule()
	if values, details, ok := m.certOrderValues(ctx, now, orders.ThresholdString()); ok {
		orders.details = details
		apply(orders, values)
	}
	if values, ok := m.replicaValues(ctx); ok {
		apply(replicaRule(), values)
	}
	if values, ok := m.backupValues(ctx, now); ok {
		apply(backupRule(), values)
	}
	if disks, writes, details, ok := m.storageValues(ctx); ok {
		dr, wr := diskRule(), storeWriteRule()
		dr.details, wr.details = details, details
		apply(dr, disks)
		apply(wr, writes)
	}
	if values, details, ok := m.blobValues(ctx); ok {
		r := blobRule()
		r.details = details
		apply(r, values)
	}
	return nil
}

// noData marks an instance whose metric had no data in the window.
const noData = -1e308

func (m *Monitor) instancesOf(rule string) map[string]bool {
	out := map[string]bool{}
	for k := range m.alerts {
		if k.rule == rule {
			out[k.env] = true
		}
	}
	return out
}

// ruleValues computes r's metric per environment over its window.
func (m *Monitor) ruleValues(ctx context.Context, r Rule, now time.Time) (map[string]float64, error) {
	prefix, value := metricSource(r.Metric, r.Environment)
	if value == nil {
		return nil, fmt.Errorf("monitor: rule %s: unknown metric %q", r.Name, r.Metric)
	}
	from, to := now.Add(-r.Window), now.Add(time.Millisecond) // (now-window, now]
	out := map[string]float64{}
	if strings.HasPrefix(prefix, "host/") {
		a, err := m.store.Total(ctx, prefix, from, to)
		if v, ok := value(a, Agg{}); ok && err == nil {
			out[""] = v
		}
		return out, err
	}
	probes, edges := map[string]Agg{}, map[string]Agg{}
	collect := func(pre string, into map[string]Agg) error {
		per, err := m.store.Query(ctx, pre, from, to)
		for series, a := range per {
			env := envOf(series)
			if r.Environment != "" && env != r.Environment {
				continue
			}
			agg := into[env]
			agg.Merge(a)
			into[env] = agg
		}
		return err
	}
	if prefix == "" || strings.HasPrefix(prefix, "probe/") {
		if err := collect("probe/", probes); err != nil {
			return nil, err
		}
	}
	if prefix == "" || strings.HasPrefix(prefix, "edge/") {
		if err := collect("edge/", edges); err != nil {
			return nil, err
		}
	}
	for _, src := range []map[string]Agg{probes, edges} {
		for env := range src {
			if v, ok := value(probes[env], edges[env]); ok && r.enough(probes[env], edges[env]) {
				out[env] = v
			}
		}
	}
	return out, nil
}

// step moves one instance's state machine.
func (m *Monitor) step(r Rule, env string, v float64, now time.Time) (*transition, []AlertEvent) {
	k := alertKey{r.Name, env}
	a := m.alerts[k]
	if a == nil {
		a = &Alert{ID: AlertID(r.Name, env), Rule: r.Name, Environment: env, State: StateInactive, Since: now}
		m.alerts[k] = a
	}
	a.Severity, a.Threshold = r.Severity, r.ThresholdString()
	breach := v != noData && compareFloat(v, r.Op, r.Threshold)
	if v != noData {
		a.Value = v
	}
	a.Summary = r.describe(v, breach)
	if d := r.details[env]; breach && d != "" {
		a.Summary = d
	}
	var events []AlertEvent
	change := func(state string) {
		a.State, a.Since, a.dirty = state, now, true
		if state == StatePending { // a new episode: nobody is on it yet, nobody told
			a.newEpisode, a.Ack, a.LastNotified = true, nil, time.Time{}
		}
		events = append(events, AlertEvent{Rule: a.Rule, Environment: env, State: state, Severity: a.Severity,
			Value: a.Value, Threshold: a.Threshold, At: now, Summary: a.Summary})
	}
	if breach {
		a.oks = 0
		a.fails++
		a.dirty = true
		if a.State == StateInactive || a.State == StateResolved {
			change(StatePending)
		}
		switch {
		case a.State == StatePending && a.fails >= r.FailureThreshold:
			change(StateFiring)
			return &transition{rule: r, alert: a, kind: StateFiring}, events
		case a.State == StateFiring && now.Sub(a.LastNotified) >= r.RepeatInterval:
			return &transition{rule: r, alert: a, kind: "repeat"}, events
		}
		return nil, events
	}
	a.fails = 0
	switch a.State {
	case StatePending:
		change(StateInactive)
	case StateFiring:
		a.oks++
		a.dirty = true
		if a.oks >= r.SuccessThreshold {
			fired := a.Since
			change(StateResolved)
			return &transition{rule: r, alert: a, kind: StateResolved, fired: fired}, events
		}
	}
	return nil, events
}

// notifyGroups sends one message per environment and kind, naming every
// alert in it (Alertmanager's grouping), and returns what was sent.
// Silenced alerts change state but send nothing (see heldBySilence); an
// acknowledged alert's repeat reminders are held back (someone is on it),
// its other messages name who.
func (m *Monitor) notifyGroups(ctx context.Context, changes []transition, silenced map[alertKey]bool, now time.Time) []transition {
	groups := map[string][]transition{}
	var order []string
	for _, t := range changes {
		t.alert.Silenced = silenced[alertKey{t.alert.Rule, t.alert.Environment}]
		if heldBySilence(t) {
			continue
		}
		if t.kind == "repeat" && t.ack != nil {
			continue
		}
		kind := t.kind
		if kind == "repeat" {
			kind = StateFiring
		}
		g := t.alert.Environment + "\x00" + kind + "\x00" + strings.Join(t.rule.Notify, ",")
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], t)
	}
	var sent []transition
	for _, g := range order {
		ts := groups[g]
		msg := groupMessage(ts, now)
		if m.opts.Publisher == nil {
			sent = append(sent, ts...)
			continue
		}
		reached, err := m.opts.Publisher.Publish(ctx, msg, ts[0].rule.Notify...)
		if err != nil {
			m.opts.Logger.Error("monitor: queue alert notification", "error", err.Error())
			continue
		}
		if len(reached) == 0 && ts[0].kind != StateResolved {
			// No channel takes it yet (a server's first minutes, before
			// any project's channels are loaded): not notified, so the
			// next evaluation offers it again, until one does.
			continue
		}
		sent = append(sent, ts...)
		m.opts.Logger.Info("monitor: alert notification queued", "event", msg.Event, "title", msg.Title)
	}
	return sent
}

// maxDownProbes bounds the probes an alert's message names.
const maxDownProbes = 10

// downProbes returns a fact for each of env's probes whose latest result
// failed, with why ("Down probe: api: connection refused"), so an
// availability alert says what is down, not only how much failed.
func (m *Monitor) downProbes(env string) []notify.Fact {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []notify.Fact
	for _, id := range sortedKeys(m.last) {
		if r := m.last[id]; r.Environment == env && !r.Success && len(out) < maxDownProbes {
			out = append(out, notify.Fact{Name: "Down probe", Value: r.Name + ": " + r.Error})
		}
	}
	return out
}

// heldBySilence reports whether a silence holds t back. It holds back
// every message of the alerts it covers but one: the resolution of an
// alert whose firing was announced (LastNotified is cleared when an
// episode starts), as Alertmanager's send_resolved does, so the channel
// does not show it firing for ever. An alert silenced before it was
// announced resolves quietly: nobody heard it fire.
func heldBySilence(t transition) bool {
	return t.alert.Silenced && (t.kind != StateResolved || t.alert.LastNotified.IsZero())
}

func groupMessage(ts []transition, now time.Time) notify.Message {
	first := ts[0]
	env := first.alert.Environment
	event, verb := "alert.firing", "firing"
	if first.kind == StateResolved {
		event, verb = "alert.resolved", "resolved"
	}
	sev := 4
	var names, lines, ids, alertIDs, keys []string
	var facts []notify.Fact
	for _, t := range ts {
		sev = min(sev, t.rule.Severity)
		names = append(names, t.rule.Name)
		lines = append(lines, t.rule.Name+": "+t.alert.Summary)
		facts = append(facts, notify.Fact{Name: t.rule.Name, Value: t.alert.Summary})
		facts = append(facts, t.down...)
		facts = append(facts, ackFacts(t.ack)...)
		if t.kind == StateResolved && !t.fired.IsZero() {
			facts = append(facts, notify.Fact{Name: "Fired", Value: fmt.Sprintf("%s (for %s)", t.fired.UTC().Format(time.RFC3339),
				config.FormatDuration(now.Sub(t.fired).Round(time.Second)))})
		}
		if t.ack == nil && t.kind != StateResolved { // whoever takes it on needs its ID
			facts = append(facts, notify.Fact{Name: "Acknowledge", Value: fmt.Sprintf(`phoenix alerts ack %s --comment "…"`, AlertID(t.rule.Name, env))})
		}
		ids = append(ids, t.rule.Name)
		alertIDs = append(alertIDs, AlertID(t.rule.Name, env))
		keys = append(keys, episodeKey(t))
	}
	where := InstanceLabel(env)
	title := fmt.Sprintf("[%s] %s %s", where, strings.Join(names, ", "), verb)
	if len(ts) > 1 {
		title = fmt.Sprintf("[%s] %d alerts %s: %s", where, len(ts), verb, strings.Join(names, ", "))
	}
	facts = append(facts, notify.Fact{Name: "Since", Value: first.alert.Since.UTC().Format(time.RFC3339)})
	project, envName := SplitInstance(env)
	if p := UndeliverableProject(env); p != "" { // the server's alert, about one project: for its channels only
		project = p
	}
	return notify.Message{
		ID:    fmt.Sprintf("alert-%s-%s-%s-%s", verb, env, strings.Join(ids, "+"), strings.Join(keys, "+")),
		Event: event, Severity: sev, Title: title, Text: strings.Join(lines, "\n"),
		Project: project, Environment: envName, Alerts: alertIDs, Facts: facts, Time: now,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadAlerts reads alert state once, so a restart keeps firing alerts firing.
func (m *Monitor) loadAlerts(ctx context.Context) error {
	if m.alerts != nil {
		return nil
	}
	all, err := m.Alerts(ctx, true)
	if err != nil {
		return err
	}
	m.alerts = map[alertKey]*Alert{}
	for i := range all {
		a := all[i]
		m.alerts[alertKey{a.Rule, a.Environment}] = &a
	}
	return nil
}

func (m *Monitor) saveAlerts(ctx context.Context, history []AlertEvent) error {
	var saved []*Alert
	err := m.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		saved = saved[:0]
		for _, a := range m.alerts {
			if !a.dirty {
				continue
			}
			saved = append(saved, a)
			_, err := tx.ExecContext(ctx, `INSERT INTO monitor_alerts (rule, environment, state, severity, since, value, threshold, fails, oks, last_notified, summary)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (rule, environment) DO UPDATE SET state = excluded.state, severity = excluded.severity,
				since = excluded.since, value = excluded.value, threshold = excluded.threshold, fails = excluded.fails,
				oks = excluded.oks, last_notified = excluded.last_notified, summary = excluded.summary`,
				a.Rule, a.Environment, a.State, a.Severity, a.Since.UnixMilli(), finite(a.Value), a.Threshold, a.fails, a.oks, a.LastNotified.UnixMilli(), a.Summary)
			if err != nil {
				return fmt.Errorf("monitor: save alert %s: %w", a.Rule, err)
			}
			if a.newEpisode {
				if err := clearAck(ctx, tx, a); err != nil {
					return fmt.Errorf("monitor: save alert %s: %w", a.Rule, err)
				}
			}
			a.dirty, a.newEpisode = false, false
		}
		for _, e := range history {
			_, err := tx.ExecContext(ctx, `INSERT INTO monitor_alert_history (rule, environment, state, severity, value, threshold, at, silenced, summary)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Rule, e.Environment, e.State, e.Severity, finite(e.Value), e.Threshold,
				e.At.UnixMilli(), boolInt(e.Silenced), e.Summary)
			if err != nil {
				return fmt.Errorf("monitor: alert history: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		for _, a := range saved {
			a.stored = storedOf(a)
		}
	}
	return err
}

func finite(v float64) float64 {
	if v == noData {
		return 0
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
