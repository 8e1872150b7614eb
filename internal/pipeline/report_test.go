package pipeline

import (
	"testing"
	"time"
)

func TestParseGateLog(t *testing.T) {
	log := "SEVERITY  PACKAGE\ncritical 9.8  lodash\n" +
		"vulnerability: 1 critical, 2 high in 120 packages; 3 problems (input not checked)\n" +
		"excepted: GHSA-1 lodash@4.17.0 (critical, prod): accepted by exception id=GHSA-1 (not reachable; expires 2026-12-31)\n" +
		"gate: pass\n"
	g := ParseGateLog([]byte(log))
	if !g.Recorded || g.Counts["critical"] != 1 || g.Counts["high"] != 2 || g.Scanned != 120 || g.Unit != "packages" || g.Problems != 3 {
		t.Errorf("%+v", g)
	}
	if len(g.Exceptions) != 1 || !g.Exceptions[0].Expires.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("exceptions %+v", g.Exceptions)
	}
	lic := ParseGateLog([]byte("VERDICT  PACKAGE\nreview  a\ndeny (excepted)  b\nwarning: x\nlicense: 1 high, 1 moderate in 9 packages\n"))
	if lic.Verdict["review"] != 1 || lic.Verdict["deny"] != 1 || len(lic.Verdict) != 2 {
		t.Errorf("verdicts %+v", lic.Verdict)
	}
	if none := ParseGateLog([]byte("error: no advisory database\n")); none.Recorded {
		t.Errorf("a log without a summary counted as recorded: %+v", none)
	}
}

// FuzzParseGateLog: any log parses without panicking, and counts are
// never negative.
func FuzzParseGateLog(f *testing.F) {
	f.Add([]byte("vulnerability: 1 critical in 3 packages\nexcepted: x (y; expires 2026-01-01)\n"))
	f.Add([]byte("VERDICT\nreview a\nlicense: no findings in 0 packages\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		g := ParseGateLog(log)
		for k, n := range g.Counts {
			if n < 0 {
				t.Fatalf("count %s = %d", k, n)
			}
		}
		if g.Scanned < 0 || g.Problems < 0 {
			t.Fatalf("%+v", g)
		}
	})
}
