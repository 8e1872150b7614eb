package monitor

import (
	"cmp"
	"slices"
	"time"
)

// A rule removed from phoenix.yaml is evaluated no more, so an alert of it
// that was firing would stay firing (and the environment degraded)
// forever. SetRules notes the rules it drops; the next evaluation resolves
// their pending and firing alerts, announcing the resolution of firing
// ones on the rule's channels. Only a removal seen while the server runs
// counts: at start the rules of a project whose phoenix.yaml cannot be read
// are missing too, and their alerts must not look resolved.

// noteRemoved records the rules of old that next no longer has, by name
// and environment (the server scopes each project's rule to each of its
// environments, and two projects may name a rule alike): a rule kept for
// production only, or dropped by one project while another keeps its own,
// is removed where it no longer applies. A rule that comes back is no
// longer removed. Called with m.mu held.
func (m *Monitor) noteRemoved(old, next []Rule) {
	same := func(a Rule) func(Rule) bool {
		return func(b Rule) bool { return a.Name == b.Name && a.Environment == b.Environment }
	}
	m.removed = slices.DeleteFunc(m.removed, func(r Rule) bool { return slices.ContainsFunc(next, same(r)) })
	for _, r := range old {
		if !slices.ContainsFunc(next, same(r)) && !slices.ContainsFunc(m.removed, same(r)) {
			m.removed = append(m.removed, r)
		}
	}
}

// takeRemoved returns the removed rules, forgetting them, and the rules
// in effect.
func (m *Monitor) takeRemoved() (removed, current []Rule) {
	m.mu.Lock()
	defer m.mu.Unlock()
	removed, m.removed = m.removed, nil
	return removed, m.rules
}

// covers reports whether r evaluates the alert k: its rule, in its
// environment or in every one.
func (r Rule) covers(k alertKey) bool {
	return r.Name == k.rule && (r.Environment == "" || r.Environment == k.env)
}

// retire resolves the open alerts of the removed rules that no rule in
// effect covers at now: a pending one goes back to inactive, a firing one
// is resolved and returned as a transition to announce. Called with m.amu
// held.
func (m *Monitor) retire(now time.Time) ([]transition, []AlertEvent) {
	removed, current := m.takeRemoved()
	if len(removed) == 0 {
		return nil, nil
	}
	var changes []transition
	var events []AlertEvent
	for _, k := range sortedAlertKeys(m.alerts) {
		i := slices.IndexFunc(removed, func(r Rule) bool { return r.covers(k) })
		a := m.alerts[k]
		if i < 0 || slices.ContainsFunc(current, func(r Rule) bool { return r.covers(k) }) ||
			a.State != StatePending && a.State != StateFiring {
			continue
		}
		r, fired := removed[i], a.Since
		state := StateInactive
		if a.State == StateFiring {
			state = StateResolved
		}
		a.State, a.Since, a.fails, a.oks, a.dirty = state, now, 0, 0, true
		a.Summary = "the rule is no longer in phoenix.yaml"
		events = append(events, AlertEvent{Rule: a.Rule, Environment: a.Environment, State: state, Severity: a.Severity,
			Value: a.Value, Threshold: a.Threshold, At: now, Summary: a.Summary})
		if state == StateResolved {
			changes = append(changes, transition{rule: r, alert: a, kind: StateResolved, fired: fired})
		}
	}
	return changes, events
}

// sortedAlertKeys returns the keys of alerts by rule, then environment.
func sortedAlertKeys(alerts map[alertKey]*Alert) []alertKey {
	keys := make([]alertKey, 0, len(alerts))
	for k := range alerts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b alertKey) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.env, b.env))
	})
	return keys
}
