package monitor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// BlobDamage is one blob the last check of the blob store (phoenix store
// verify, or the server's scheduled scrub) found damaged or missing,
// which an active deployment serves.
type BlobDamage struct {
	Digest  string   // sha256:…
	Problem string   // damaged, missing or unreadable
	Active  []string // the active deployments using it: "shop/production deployment 7"
	Repair  string   // how to put the good bytes back
}

// BlobRule is the built-in rule that fires when the last check of the
// blob store found a blob an active deployment serves damaged or missing:
// the edge serves such a file with its good ETag, so nothing else would
// notice. Its one alert's environment is StoreInstance; it resolves at
// the first check that finds every such blob good again.
const BlobRule = "blob-damaged"

// StoreInstance is the blob alert's instance ("environment"), which
// belongs to the server rather than to an environment.
const StoreInstance = storePrefix + "blobs"

// (storePrefix, "store:", marks the store's alert instances: storage.go.)

// blobMetric is the built-in rule's metric: the number of damaged or
// missing blobs that active deployments serve.
const blobMetric = "blobs_damaged"

// blobRule returns the built-in rule: a check reads every blob, so one
// finding is enough to fire, and one clean check resolves it.
func blobRule() Rule {
	return Rule{Name: BlobRule, Metric: blobMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 1, SuccessThreshold: 1}.withDefaults()
}

// blobValues returns blobMetric and the alert's summary; ok is false
// when the alert is off, no check has run since the server started or
// its result could not be read (the alert then keeps its state).
func (m *Monitor) blobValues(ctx context.Context) (map[string]float64, map[string]string, bool) {
	if m.opts.Blobs == nil {
		return nil, nil, false
	}
	damage, known, err := m.opts.Blobs(ctx)
	if err != nil {
		m.logErr("blob store check", err)
		return nil, nil, false
	}
	if !known {
		return nil, nil, false
	}
	values := map[string]float64{StoreInstance: float64(len(damage))}
	if len(damage) == 0 {
		return values, nil, true
	}
	return values, map[string]string{StoreInstance: describeDamage(damage)}, true
}

// describeDamage names the first blobs, the deployments they break and
// how to repair them.
func describeDamage(damage []BlobDamage) string {
	const most = 3
	var b strings.Builder
	fmt.Fprintf(&b, "%d blob(s) that active deployments serve are damaged or missing in the blob store:", len(damage))
	for i, d := range damage {
		if i == most {
			fmt.Fprintf(&b, " and %d more (phoenix store verify lists them all).", len(damage)-most)
			break
		}
		fmt.Fprintf(&b, " %s is %s, used by %s; %s.", d.Digest, d.Problem, strings.Join(d.Active, ", "), d.Repair)
	}
	return b.String()
}

// describeBlobs says what the blob rule saw when it is not breached.
func describeBlobs(v float64) string {
	if v <= 0 {
		return "the last check of the blob store found every blob active deployments serve intact"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " blob(s) that active deployments serve are damaged or missing"
}
