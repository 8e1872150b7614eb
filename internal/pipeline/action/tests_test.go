package action

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestTestReportCountsOnlyReportedSuites: a suite without a JUnit report
// has no count, so the report neither claims "0 tests" nor sets the
// tests output; with one report it sums that one and says the rest were
// not counted.
func TestTestReportCountsOnlyReportedSuites(t *testing.T) {
	tests := []struct {
		name      string
		outs      map[string]string
		wantLog   string
		wantTests string
		status    string
	}{
		{"none ran", map[string]string{}, "tests: no suite ran", "", "skipped"},
		{"no reports", map[string]string{}, "tests: not counted: no suite has a JUnit report", "", ""},
		{"one of two", map[string]string{"test-unit.tests": "12", "test-unit.failures": "0"},
			"tests: 12 tests: 12 passed, 0 failed, 0 errors, 0 skipped in 0s (1 of 2 suites; the others have no JUnit report)", "12", ""},
		{"both", map[string]string{"test-unit.tests": "3", "test-e2e.tests": "4", "test-e2e.skipped": "1"},
			"tests: 7 tests: 6 passed, 0 failed, 0 errors, 1 skipped in 0s\n", "7", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			if tc.status == "skipped" {
				cfg.Tests.Coverage.Min = 60 // no suite ran: nothing to gate
			}
			sc, log, outs := newContext(t, t.TempDir(), cfg, nil)
			for k, v := range tc.outs {
				outs[k] = v
			}
			sc.With["steps"] = []any{"test-unit", "test-e2e"}
			sc.Status = func(string) string { return cmp.Or(tc.status, "succeeded") }
			if err := testReport(context.Background(), sc); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tc.wantLog) || strings.Contains(log.String(), "0 tests") {
				t.Errorf("log lacks %q (or claims 0 tests):\n%s", tc.wantLog, log)
			}
			if outs["tests"] != tc.wantTests {
				t.Errorf("tests output %q, want %q", outs["tests"], tc.wantTests)
			}
		})
	}
}
