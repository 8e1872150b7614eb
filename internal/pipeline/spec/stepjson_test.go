package spec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestStepJSONInSeconds: a plan's steps write their timeout and backoff as
// numbers of seconds (timeout_seconds, backoff_seconds), read them back,
// and still read a plan stored with timeout and backoff in nanoseconds.
func TestStepJSONInSeconds(t *testing.T) {
	p := Plan{Name: "release", Steps: []*Step{{ID: "ship/deploy", Name: "deploy", Stage: "ship", Run: "true",
		Timeout: 10 * time.Minute, Retries: 2, Backoff: 1500 * time.Millisecond}}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"timeout_seconds":600`) || !strings.Contains(s, `"backoff_seconds":1.5`) ||
		strings.Contains(s, `"timeout":`) || strings.Contains(s, `"backoff":`) || !strings.Contains(s, `"id":"ship/deploy"`) {
		t.Fatalf("plan JSON: %s", s)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := *back.Steps[0]; got.Timeout != 10*time.Minute || got.Backoff != 1500*time.Millisecond || got.ID != "ship/deploy" || got.Retries != 2 {
		t.Fatalf("read back: %+v", got)
	}
	// As a plan stored before timeout_seconds was: nanoseconds.
	stored := `{"name":"release","steps":[{"id":"ship/deploy","name":"deploy","stage":"ship","run":"true","if":"success",` +
		`"timeout":600000000000,"retries":2,"backoff":2000000000}]}`
	var old Plan
	if err := json.Unmarshal([]byte(stored), &old); err != nil {
		t.Fatal(err)
	}
	if got := *old.Steps[0]; got.Timeout != 10*time.Minute || got.Backoff != 2*time.Second || got.ID != "ship/deploy" || got.Run != "true" {
		t.Fatalf("stored plan: %+v", got)
	}
}
