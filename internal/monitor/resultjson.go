package monitor

import (
	"encoding/json"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// A probe's Result (stored as JSON in monitor_last, read back for the
// status) and a verification's VerifyResult and CheckResult write their
// durations as the API writes every duration, a number in the unit the
// key names (docs/operations.md): duration_ms and p95_ms for latencies,
// cert_seconds_left for a certificate's time left, duration_seconds for a
// verification's soak. Results stored before wrote duration and
// cert_expiry in nanoseconds (Go's time.Duration), which Result's
// UnmarshalJSON still reads.

type (
	// resultAlias, checkAlias and verifyAlias are the types without their
	// methods, so that their JSON's marshalling does not recurse.
	resultAlias Result
	checkAlias  CheckResult
	verifyAlias VerifyResult
)

// resultJSON is what a Result is in JSON.
type resultJSON struct {
	*resultAlias
	DurationMS      float64 `json:"duration_ms"`
	CertSecondsLeft float64 `json:"cert_seconds_left,omitempty"`
}

// MarshalJSON writes r with its durations in the units their keys name.
func (r Result) MarshalJSON() ([]byte, error) {
	a := resultAlias(r)
	return json.Marshal(resultJSON{resultAlias: &a, DurationMS: inMS(r.Duration), CertSecondsLeft: r.CertExpiry.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes, and a result stored with
// duration and cert_expiry in nanoseconds.
func (r *Result) UnmarshalJSON(b []byte) error {
	v := resultJSON{resultAlias: (*resultAlias)(r)}
	var old struct {
		Duration   *time.Duration `json:"duration"`
		CertExpiry *time.Duration `json:"cert_expiry"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	r.Duration, r.CertExpiry = config.DurationIn(v.DurationMS, time.Millisecond), config.DurationIn(v.CertSecondsLeft, time.Second)
	if old.Duration != nil && r.Duration == 0 {
		r.Duration = *old.Duration
	}
	if old.CertExpiry != nil && r.CertExpiry == 0 {
		r.CertExpiry = *old.CertExpiry
	}
	return nil
}

// MarshalJSON writes c with its durations in the units their keys name.
func (c CheckResult) MarshalJSON() ([]byte, error) {
	a := checkAlias(c)
	return json.Marshal(struct {
		*checkAlias
		P95MS           float64 `json:"p95_ms"`
		CertSecondsLeft float64 `json:"cert_seconds_left,omitempty"`
	}{&a, inMS(c.P95), c.CertExpiry.Seconds()})
}

// MarshalJSON writes v with its durations in the units their keys name
// (and its checks as CheckResult writes them).
func (v VerifyResult) MarshalJSON() ([]byte, error) {
	a := verifyAlias(v)
	return json.Marshal(struct {
		*verifyAlias
		P95MS           float64 `json:"p95_ms"`
		DurationSeconds float64 `json:"duration_seconds"`
	}{&a, inMS(v.P95), v.Duration.Seconds()})
}

// inMS is d in milliseconds.
func inMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
