package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/scan/report"
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
	if lic.Verdict["review"] != 1 || lic.Verdict["deny"] != 1 || len(lic.Verdict) != 2 || len(lic.Counts) != 0 || lic.Scanned != 9 {
		t.Errorf("verdicts %+v, counts %+v (a licence has no severity)", lic.Verdict, lic.Counts)
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

// TestGateSummaryMatchesItsLog: what a gate records as its output and
// what its log says read back the same, for vulnerabilities with an
// exception and licences by verdict; a missing or broken output is not
// taken.
func TestGateSummaryMatchesItsLog(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	vuln := report.New(report.Vulnerability, "site", now)
	vuln.Scanned = 120
	vuln.Findings = append(vuln.Findings,
		report.Finding{Kind: report.Vulnerability, RuleID: "GHSA-1", Severity: "critical", Package: "lodash", Version: "4.17.0"},
		report.Finding{Kind: report.Vulnerability, RuleID: "GHSA-2", Severity: "high", Package: "axios", Version: "1.0.0", Dev: true})
	vuln.Problems = append(vuln.Problems, report.Problem{File: "yarn.lock", Msg: "unreadable"})
	lic := report.New(report.License, "site", now)
	lic.Scanned = 9
	lic.Findings = append(lic.Findings, report.Finding{Kind: report.License, Verdict: "review", Severity: "moderate", Package: "a"},
		report.Finding{Kind: report.License, Verdict: "deny", Severity: "high", Package: "b", License: "GPL-3.0"})
	policy := report.Policy{AllowProblems: true, Exceptions: []report.Exception{
		{ID: "GHSA-1", Reason: "not reachable", Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
		{Package: "b", License: "GPL-3.0", Reason: "internal tool", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}}}
	for kind, r := range map[string]*report.Report{"audit": vuln, "licenses": lic} {
		dec := report.Gate(policy, r, now)
		var log bytes.Buffer
		if err := report.WriteTable(&log, r); err != nil {
			t.Fatal(err)
		}
		for _, a := range dec.Applied {
			fmt.Fprintf(&log, "excepted: %s\n", a)
		}
		out, _ := json.Marshal(action.SummarizeGate(r, dec))
		fromOut, ok := GateFromOutput(kind, string(out))
		if !ok {
			t.Fatalf("%s: output not read: %s", kind, out)
		}
		fromLog := ParseGateLog(log.Bytes())
		if !reflect.DeepEqual(fromOut, fromLog) {
			t.Errorf("%s:\noutput %+v\nlog    %+v\n%s", kind, fromOut, fromLog, log.String())
		}
		if len(fromOut.Exceptions) != 1 || fromOut.Exceptions[0].Expires.IsZero() {
			t.Errorf("%s: exceptions %+v", kind, fromOut.Exceptions)
		}
		// Licences are counted by verdict, in the output and the log's
		// summary line, not by the severity that ranks them.
		if kind == "licenses" && (len(fromOut.Counts) != 0 || !strings.Contains(log.String(), "\nlicense: 1 deny, 1 review in 9 packages\n") ||
			!reflect.DeepEqual(fromOut.Verdict, map[string]int{"deny": 1, "review": 1})) {
			t.Errorf("licences: counts %+v, verdicts %+v:\n%s", fromOut.Counts, fromOut.Verdict, log.String())
		}
	}
	for _, bad := range []string{"", "{", "[]"} {
		if _, ok := GateFromOutput("audit", bad); ok {
			t.Errorf("output %q taken", bad)
		}
	}
}

// TestGatesListDisabledChecks releases projects through pipelines of
// their own: a gate phoenix.yaml disables and no step runs is listed as
// disabled, with the setting and where it was in the project's
// phoenix.yaml, as the plan recorded it at release; one a step runs all
// the same has its result instead.
func TestGatesListDisabledChecks(t *testing.T) {
	const head = "project: {name: shop}\nenvironments: {staging: {}}\n"
	pipeline := func(step string) string {
		return "pipeline:\n  stages:\n    - name: main\n      steps:\n        - " + step + "\n"
	}
	tests := []struct {
		name, yaml string
		disabled   []spec.DisabledCheck
		secrets    bool // the secrets gate has a result
	}{
		{"secrets off, no step", "checks:\n  secrets: {enabled: false}\n" + pipeline("{name: build, run: \"true\"}"),
			[]spec.DisabledCheck{{Check: "secrets", Setting: "checks.secrets.enabled: false", At: "phoenix.yaml:4:13"}}, false},
		{"secrets off, a step runs it", "checks:\n  secrets: {enabled: false}\n" + pipeline("{name: secrets, uses: check/secrets}"),
			nil, true},
		{"audit and sbom off, secrets runs", "checks:\n  audit:\n    enabled: false\n  sbom: {enabled: false}\n" +
			pipeline("{name: secrets, uses: check/secrets}"),
			[]spec.DisabledCheck{{Check: "audit", Setting: "checks.audit.enabled: false", At: "phoenix.yaml:5:5"},
				{Check: "sbom", Setting: "checks.sbom.enabled: false", At: "phoenix.yaml:6:10"}}, true},
		{"none off", pipeline("{name: build, run: \"true\"}"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := f.wait(f.release(f.project(head+tt.yaml), "v1.0.0").ID)
			if d.Status != Succeeded {
				t.Fatalf("release %s: %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
			}
			g, err := f.svc.Gates(context.Background(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.Disabled, tt.disabled) {
				t.Errorf("disabled %+v, want %+v", g.Disabled, tt.disabled)
			}
			if (g.Secrets != nil && g.Secrets.Recorded) != tt.secrets || g.Audit != nil || g.SBOMStatus != "" {
				t.Errorf("gates %+v, secrets %+v", g, g.Secrets)
			}
		})
	}
}
