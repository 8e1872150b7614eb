package spec

import (
	"encoding/json"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// A step's JSON (a run's plan: in the API's answers, 'phoenix release -o
// json' and the runs table) writes its durations as the API writes every
// duration, a number of seconds the key names: timeout_seconds,
// backoff_seconds. Plans stored before wrote them as timeout and backoff
// in nanoseconds (Go's time.Duration), which UnmarshalJSON still reads.

// stepAlias is Step without its methods, so stepJSON's marshalling does
// not recurse.
type stepAlias Step

// stepJSON is what a Step is in JSON.
type stepJSON struct {
	*stepAlias
	TimeoutSeconds float64 `json:"timeout_seconds"`
	BackoffSeconds float64 `json:"backoff_seconds,omitempty"`
}

// MarshalJSON writes s with its durations in seconds.
func (s Step) MarshalJSON() ([]byte, error) {
	a := stepAlias(s)
	return json.Marshal(stepJSON{stepAlias: &a, TimeoutSeconds: s.Timeout.Seconds(), BackoffSeconds: s.Backoff.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes, and a step of a plan stored
// with timeout and backoff in nanoseconds.
func (s *Step) UnmarshalJSON(b []byte) error {
	v := stepJSON{stepAlias: (*stepAlias)(s)}
	var old struct {
		Timeout *time.Duration `json:"timeout"`
		Backoff *time.Duration `json:"backoff"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	s.Timeout, s.Backoff = config.DurationIn(v.TimeoutSeconds, time.Second), config.DurationIn(v.BackoffSeconds, time.Second)
	if old.Timeout != nil && s.Timeout == 0 {
		s.Timeout = *old.Timeout
	}
	if old.Backoff != nil && s.Backoff == 0 {
		s.Backoff = *old.Backoff
	}
	return nil
}

// JSONForm is a value of the type a Step's JSON has, for the documents
// that describe it (the API's OpenAPI schema).
func (Step) JSONForm() any { return stepJSON{} }
