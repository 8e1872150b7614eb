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

// noteRemoved records the rules of old that next no longer has (a rule
// that comes back is no longer removed). Called with m.mu held.
func (m *Monitor) noteRemoved(old, next []Rule) {
	kept := make(map[string]bool, len(next))
	for _, r := range next {
		kept[r.Name] = true
		delete(m.removed, r.Name)
	}
	for _, r := range old {
		if !kept[r.Name] {
			if m.removed == nil {
				m.removed = map[string]Rule{}
			}
			m.removed[r.Name] = r
		}
	}
}

// takeRemoved returns the removed rules and forgets them.
func (m *Monitor) takeRemoved() map[string]Rule {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.removed
	m.removed = nil
	return rs
}

// retire resolves the open alerts of the removed rules at now: a pending
// one goes back to inactive, a firing one is resolved and returned as a
// transition to announce. Called with m.amu held.
func (m *Monitor) retire(now time.Time) ([]transition, []AlertEvent) {
	removed := m.takeRemoved()
	if len(removed) == 0 {
		return nil, nil
	}
	var changes []transition
	var events []AlertEvent
	for _, k := range sortedAlertKeys(m.alerts) {
		r, ok := removed[k.rule]
		a := m.alerts[k]
		if !ok || a.State != StatePending && a.State != StateFiring {
			continue
		}
		state := StateInactive
		if a.State == StateFiring {
			state = StateResolved
		}
		a.State, a.Since, a.fails, a.oks, a.dirty = state, now, 0, 0, true
		a.Summary = "the rule is no longer in phoenix.yaml"
		events = append(events, AlertEvent{Rule: a.Rule, Environment: a.Environment, State: state, Severity: a.Severity,
			Value: a.Value, Threshold: a.Threshold, At: now, Summary: a.Summary})
		if state == StateResolved {
			changes = append(changes, transition{rule: r, alert: a, kind: StateResolved})
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
