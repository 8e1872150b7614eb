package monitor

import (
	"context"
)

// ReplicaHealth is one replica's health for the built-in ReplicaRule, as
// its heartbeats show it (servers started with --replica sharing one
// database). A replica that stopped cleanly is neither Silent nor EdgeDown:
// a clean stop is not an outage.
type ReplicaHealth struct {
	Replica string // its advertised API URL
	// Silent: no heartbeat for more than two polls (the replica is stale)
	// and no clean stop recorded.
	Silent bool
	// EdgeDown: the replica's own edge has failed its self-check (a request
	// through its own listener) for more than two polls.
	EdgeDown bool
	// Behind: the environments (<env>.<project>) whose active deployment
	// the replica's edge has not served for more than two polls (it cannot
	// fetch the release's blobs): its visitors get the old release, or
	// none, while its edge answers.
	Behind []string
}

// ReplicaRule is the built-in rule that fires when a replica is Silent,
// EdgeDown or Behind, one alert per replica, whose environment is
// ReplicaInstance(URL): replica-down@replica:http://10.0.0.2:7070. A load
// balancer may hide such a replica until the next failure; the alert
// does not.
const ReplicaRule = "replica-down"

// replicaPrefix marks a replica's alert instance, which belongs to the
// server rather than to an environment.
const replicaPrefix = "replica:"

// ReplicaInstance is the alert instance ("environment") of the replica
// advertised at url.
func ReplicaInstance(url string) string { return replicaPrefix + url }

// replicaMetric is the built-in rule's metric: 0 healthy (or stopped
// cleanly), replicaSilent, replicaEdgeDown or replicaBehind.
const replicaMetric = "replica_down"

// The values of replicaMetric.
const (
	replicaSilent   = 1
	replicaEdgeDown = 2
	replicaBehind   = 3
)

// replicaRule returns the built-in rule. The replica's heartbeats already
// wait two polls before calling it down, so it fires at the first
// evaluation that sees it down and resolves at the first that sees it
// healthy (or stopped cleanly).
func replicaRule() Rule {
	return Rule{Name: ReplicaRule, Metric: replicaMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 1, SuccessThreshold: 1}.withDefaults()
}

// replicaValues returns replicaMetric per replica; ok is false when the
// alert is off or the heartbeats could not be read (the instances then
// keep their state). A replica no longer listed at all (forgotten after a
// week) counts as healthy, so its alert resolves rather than fire forever.
func (m *Monitor) replicaValues(ctx context.Context) (map[string]float64, bool) {
	if m.opts.ReplicaHealth == nil {
		return nil, false
	}
	hs, err := m.opts.ReplicaHealth(ctx)
	if err != nil {
		m.logErr("replica heartbeats", err)
		return nil, false
	}
	out := map[string]float64{}
	for env := range m.instancesOf(ReplicaRule) {
		out[env] = 0
	}
	for _, h := range hs {
		v := 0.0
		switch {
		case h.Silent:
			v = replicaSilent
		case h.EdgeDown:
			v = replicaEdgeDown
		case len(h.Behind) > 0:
			v = replicaBehind
		}
		out[ReplicaInstance(h.Replica)] = v
	}
	return out, true
}

// describeReplica says what the replica rule saw.
func describeReplica(v float64) string {
	switch v {
	case replicaSilent:
		return "no heartbeat for more than two polls, and no clean stop: the replica is down or cut off from the database"
	case replicaEdgeDown:
		return "the replica's own edge has failed its self-check for more than two polls (GET /api/v1/replicas shows the error)"
	case replicaBehind:
		return "the replica's edge has not served the active release of an environment for more than two polls: it cannot fetch the release's blobs " +
			"(GET /api/v1/replicas lists them under behind; its log says why, e.g. a blob store it does not share)"
	}
	return "the replica is healthy or stopped cleanly"
}
