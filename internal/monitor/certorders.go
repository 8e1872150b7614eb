package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// CertOrder is a domain the edge serves that has no certificate because
// its ACME order keeps failing, for the built-in CertOrderRule.
type CertOrder struct {
	Name string
	// Environment is the instance ("<env>.<project>") whose custom domain
	// Name is; "" when none is known (a name given with --acme-domain).
	Environment string
	Since       time.Time // the first failed attempt in a row
	Failures    int       // failed attempts since
	LastError   string    // the CA's last error
}

// CertOrderRule is the built-in rule that fires when a domain's
// certificate order has been failing for Options.CertOrderAlert. Its
// alerts are one per domain, whose environment is CertInstance(NAME):
// certificate-order-failing@tls:www.example.com.
const CertOrderRule = "certificate-order-failing"

// certOrderMetric is the built-in rule's metric: hours since the order
// began failing; 0 once it has a certificate or is no longer served.
const certOrderMetric = "certificate_order_failing_hours"

// DefaultCertOrderAlert is how long a domain's order fails before it
// alerts when Options.CertOrderAlert is not set.
const DefaultCertOrderAlert = time.Hour

// certOrderRule returns the built-in rule: breached once the order has
// been failing for the threshold; it fires at once (the threshold is the
// patience), reminds daily and resolves at the first evaluation that
// finds the domain with a certificate, or no longer served.
func (m *Monitor) certOrderRule() Rule {
	return Rule{Name: CertOrderRule, Metric: certOrderMetric, Threshold: m.opts.CertOrderAlert.Hours(), Op: ">=",
		Severity: 2, FailureThreshold: 1, SuccessThreshold: 1, RepeatInterval: 24 * time.Hour}.withDefaults()
}

// certOrderValues returns the hours each failing order has failed for,
// 0 for the domains alerted before that are no longer listed, and the
// summaries of those that breach; ok is false when the alert is off or
// the orders could not be listed (the instances then keep their state).
func (m *Monitor) certOrderValues(ctx context.Context, now time.Time, threshold string) (values map[string]float64, details map[string]string, ok bool) {
	if m.opts.CertOrders == nil {
		return nil, nil, false
	}
	failing, err := m.opts.CertOrders(ctx)
	if err != nil {
		m.logErr("failing certificate orders", err)
		return nil, nil, false
	}
	values, details = map[string]float64{}, map[string]string{}
	for env := range m.instancesOf(CertOrderRule) {
		values[env] = 0
	}
	for _, o := range failing {
		k := CertInstance(o.Name)
		values[k] = math.Max(math.Floor(now.Sub(o.Since).Hours()*100)/100, 0.01)
		details[k] = describeCertOrder(o, values[k], threshold)
	}
	return values, details, true
}

// describeCertOrder is a failing order's summary: the domain, its
// environment, how long and how often it failed, the CA's last error.
func describeCertOrder(o CertOrder, hours float64, threshold string) string {
	where := ""
	if o.Environment != "" {
		where = " (" + InstanceLabel(o.Environment) + ")"
	}
	return fmt.Sprintf("no certificate for %s%s: its ACME order has failed for %s hours (%d attempts, alert at %s); the CA's last error: %s",
		o.Name, where, strconv.FormatFloat(hours, 'f', -1, 64), o.Failures, threshold, o.LastError)
}

// describeCertOrderOK says why the rule does not breach.
func describeCertOrderOK(v float64, threshold string) string {
	if v <= 0 {
		return "the domain has a certificate, or is no longer served"
	}
	return fmt.Sprintf("its ACME order has failed for %s hours (alert at %s)", strconv.FormatFloat(v, 'f', -1, 64), threshold)
}
