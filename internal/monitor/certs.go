package monitor

import (
	"context"
	"math"
	"strings"
	"time"
)

// Certificate is one certificate the edge serves, for the built-in
// certificate expiry alert: the name it is listed under (its first name)
// and when it expires.
type Certificate struct {
	Name     string
	NotAfter time.Time
}

// CertRule is the built-in rule that fires when a certificate the edge
// serves expires within Options.CertWarning. Its alerts are one per
// certificate, whose environment is CertInstance(NAME):
// certificate-expiry@tls:www.example.com.
const CertRule = "certificate-expiry"

// certPrefix marks a certificate's alert instance, which belongs to the
// server rather than to an environment.
const certPrefix = "tls:"

// CertInstance is the alert instance ("environment") of the certificate
// listed under name.
func CertInstance(name string) string { return certPrefix + name }

// ServerInstance reports whether an alert instance belongs to the server
// rather than to a "<env>.<project>": host alerts (""), certificates',
// replicas', the backups', the storage's, the blob store's and the
// notification channels' (which are about one project: UndeliverableProject).
// Reading one needs read on the server, acknowledging it env.write.
func ServerInstance(env string) bool {
	return env == "" || strings.HasPrefix(env, certPrefix) || strings.HasPrefix(env, replicaPrefix) ||
		strings.HasPrefix(env, backupPrefix) || strings.HasPrefix(env, notifyPrefix) ||
		strings.HasPrefix(env, diskPrefix) || strings.HasPrefix(env, storePrefix)
}

// certMetric is the built-in rule's metric: days left on a certificate.
const certMetric = "certificate_days_left"

// DefaultCertWarning is how long before expiry a certificate alerts when
// Options.CertWarning is not set.
const DefaultCertWarning = 14 * 24 * time.Hour

// certRule returns the built-in rule: breached when the days left fall
// below the warning; it fires at once (an expiry does not flap) and
// reminds daily.
func (m *Monitor) certRule() Rule {
	return Rule{Name: CertRule, Metric: certMetric, Threshold: m.opts.CertWarning.Hours() / 24, Op: "<",
		Severity: 1, FailureThreshold: 1, SuccessThreshold: 1, RepeatInterval: 24 * time.Hour}.withDefaults()
}

// certValues returns the days left per certificate; ok is false when the
// alert is off or the certificates could not be listed (the instances then
// keep their state: a failed listing is no renewal).
func (m *Monitor) certValues(ctx context.Context, now time.Time) (map[string]float64, bool) {
	if m.opts.Certificates == nil {
		return nil, false
	}
	cs, err := m.opts.Certificates(ctx)
	if err != nil {
		m.logErr("certificate listing", err)
		return nil, false
	}
	out := map[string]float64{}
	for _, c := range cs {
		// Two decimals, cut as the listing cuts to whole days: rounded,
		// 13.999 days read 14 and did not fire under a 14-day warning
		// while the listing said expiring, and 9.999 read "10 days".
		days := math.Floor(c.NotAfter.Sub(now).Hours()/24*100) / 100
		k := CertInstance(c.Name)
		if old, seen := out[k]; seen { // two for one name: the later one serves
			days = math.Max(old, days)
		}
		out[k] = days
	}
	return out, true
}
