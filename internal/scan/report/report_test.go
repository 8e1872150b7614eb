package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func sample() *Report {
	r := New(Vulnerability, "site", now)
	r.Scanned = 3
	r.Findings = []Finding{
		{Kind: Vulnerability, RuleID: "GHSA-29mw-wpgm-hmr9", Severity: "moderate", Score: 5.3, Title: "ReDoS in lodash", Package: "lodash",
			Version: "4.17.20", FixedIn: "4.17.21", DepPath: []string{"lodash@4.17.20"}, File: "package-lock.json", Line: 12},
		{Kind: Vulnerability, RuleID: "GHSA-xvch-5gv4-984h", Severity: "critical", Package: "minimist", Version: "1.2.5", Dev: true,
			DepPath: []string{"mocha@1.0.0", "minimist@1.2.5"}, File: "package-lock.json"},
	}
	r.Problems = []Problem{{File: "yarn.lock", Entry: "a@^1", Line: 3, Msg: "no version"}}
	r.Warnings = []string{"advisory database is old"}
	r.Sort()
	return r
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"critical", "minimist", "dev", "mocha@1.0.0 > minimist@1.2.5", "4.17.21", "problem: yarn.lock:3: \"a@^1\": no version",
		"warning: advisory database is old", "1 critical, 1 moderate in 3 packages; 1 problems"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "minimist") > strings.Index(out, "lodash") {
		t.Errorf("not sorted worst first:\n%s", out)
	}
}

// TestTableWithoutFindings: a report with nothing found prints no table
// header over no rows (a gate's log showed "SEVERITY  RULE …" alone);
// its summary says so.
func TestTableWithoutFindings(t *testing.T) {
	for _, k := range []Kind{Vulnerability, License, Secret} {
		var b bytes.Buffer
		if err := WriteTable(&b, &Report{Kind: k, Scanned: 2}); err != nil {
			t.Fatal(err)
		}
		if out := b.String(); strings.Contains(out, "SEVERITY") || strings.Contains(out, "VERDICT") || !strings.Contains(out, "no findings in 2") {
			t.Errorf("%s without findings:\n%s", k, out)
		}
	}
}

// TestLicenceSummaryCountsVerdicts: a licence report's summary counts its
// findings by verdict, worst first (allow only when every package is
// listed), never by the severity that ranks them; a vulnerability
// report's counts severities.
func TestLicenceSummaryCountsVerdicts(t *testing.T) {
	r := New(License, "site", now)
	r.Scanned = 9
	for _, v := range []struct{ verdict, sev string }{{"review", "moderate"}, {"deny", "high"}, {"review", "moderate"}, {"allow", "low"}} {
		r.Findings = append(r.Findings, Finding{Kind: License, Verdict: v.verdict, Severity: v.sev, Package: "p-" + v.verdict})
	}
	if got, want := r.Summary(), "license: 1 deny, 2 review, 1 allow in 9 packages"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got, want := sample().Summary(), "vulnerability: 1 critical, 1 moderate in 3 packages; 1 problems (input not checked)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != 2 || back.Findings[0].DepPath[0] != "mocha@1.0.0" || len(back.Problems) != 1 {
		t.Errorf("round trip: %+v", back)
	}
}

// TestSARIFStructure checks what code-scanning tools read from the SARIF
// log (rule ids, levels, locations, suppressions); the log's validity
// against the SARIF 2.1.0 schema is TestSARIFValidatesAgainstTheSchema.
func TestSARIFStructure(t *testing.T) {
	r := sample()
	Gate(Policy{IncludeDev: true, Exceptions: []Exception{{ID: "GHSA-xvch-5gv4-984h", Reason: "test only", Expires: now}}}, r, now)
	var b bytes.Buffer
	if err := WriteSARIF(&b, r); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log["version"] != "2.1.0" || log["$schema"] != SARIFSchema {
		t.Fatalf("header %v %v", log["version"], log["$schema"])
	}
	run := log["runs"].([]any)[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "phoenix" {
		t.Errorf("driver %v", driver)
	}
	rules := driver["rules"].([]any)
	results := run["results"].([]any)
	if len(rules) != 2 || len(results) != 2 {
		t.Fatalf("rules %d results %d", len(rules), len(results))
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for i, x := range results {
		res := x.(map[string]any)
		idx := int(res["ruleIndex"].(float64))
		if rules[idx].(map[string]any)["id"] != res["ruleId"] {
			t.Errorf("result %d: ruleIndex does not point at its rule", i)
		}
		if !levels[res["level"].(string)] {
			t.Errorf("result %d: level %v", i, res["level"])
		}
		if res["message"].(map[string]any)["text"] == "" {
			t.Errorf("result %d: empty message", i)
		}
		for _, l := range res["locations"].([]any) {
			pl := l.(map[string]any)["physicalLocation"].(map[string]any)
			if reg, ok := pl["region"].(map[string]any); ok && reg["startLine"].(float64) < 1 {
				t.Errorf("result %d: startLine < 1", i)
			}
		}
	}
	first := results[0].(map[string]any)
	if first["level"] != "error" || first["suppressions"] == nil {
		t.Errorf("the critical excepted finding: %v", first)
	}
	inv := run["invocations"].([]any)[0].(map[string]any)
	if inv["executionSuccessful"] != false || len(inv["toolExecutionNotifications"].([]any)) != 2 {
		t.Errorf("invocation %v", inv)
	}
}

func TestGateSecretsAndLicences(t *testing.T) {
	r := New(Secret, "x", now)
	r.Findings = []Finding{{Kind: Secret, RuleID: "aws-access-key", Severity: "high", File: "a.js", Line: 1, Redacted: "AKIA…", Fingerprint: "fp1"}}
	if d := Gate(Policy{}, r, now); d.Pass {
		t.Error("secret passed")
	}
	if d := Gate(Policy{Exceptions: []Exception{{Fingerprint: "fp1", Reason: "test key", Expires: now}}}, r, now); !d.Pass {
		t.Errorf("fingerprint exception not applied: %+v", d)
	}
	if d := Gate(Policy{Exceptions: []Exception{{Fingerprint: "fp1", Expires: now}}}, r, now); d.Pass {
		t.Error("exception without a reason applied")
	}
	l := New(License, "x", now)
	l.Findings = []Finding{{Kind: License, RuleID: "GPL-3.0-or-later", Verdict: "review", License: "GPL-3.0-or-later", Package: "chessground", Version: "9.2.1"}}
	d := Gate(Policy{}, l, now)
	if d.Pass || !strings.Contains(d.Reasons[0], "GPL-3.0-or-later") {
		t.Errorf("GPL review passed: %+v", d)
	}
	d = Gate(Policy{Exceptions: []Exception{{Package: "chessground", License: "GPL-3.0-or-later", Reason: "legal approved 2026-11", Expires: now.AddDate(1, 0, 0)}}}, l, now)
	if !d.Pass || len(d.Applied) != 1 {
		t.Errorf("approved licence failed: %+v", d)
	}
}

// TestTableNotes: a report's notes (a workspace root's lockfile read for
// the folder checked) come first in the table output.
func TestTableNotes(t *testing.T) {
	r := New(Vulnerability, "apps/web", time.Now())
	r.Notes = []string{"apps/web: read ../../package-lock.json, workspace package @acme/web"}
	var buf strings.Builder
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "note: apps/web: read ../../package-lock.json, workspace package @acme/web\n") {
		t.Errorf("table:\n%s", buf.String())
	}
}

// TestExceptionKeepsToItsCheck: an exception of a package accepts only
// the findings of its kind: one for a reviewed licence leaves the
// package's vulnerabilities failing, one for an advisory its licence
// findings. The audit log says which check a package's exception is for.
func TestExceptionKeepsToItsCheck(t *testing.T) {
	vuln := New(Vulnerability, "x", now)
	vuln.Findings = []Finding{{Kind: Vulnerability, RuleID: "GHSA-1", Severity: "critical", Package: "some-gpl-lib", Version: "1.0.0"}}
	lic := New(License, "x", now)
	lic.Findings = []Finding{{Kind: License, RuleID: "license/review", Verdict: "review", License: "GPL-3.0-only", Package: "some-gpl-lib", Version: "1.0.0"}}
	later := now.AddDate(1, 0, 0)
	licOnly := Policy{Exceptions: []Exception{{Kind: License, Package: "some-gpl-lib", Reason: "legal approved", Expires: later}}}
	if d := Gate(licOnly, vuln, now); d.Pass {
		t.Errorf("a licence exception accepted a vulnerability: %+v", d)
	}
	d := Gate(licOnly, lic, now)
	if !d.Pass || len(d.Applied) != 1 || !strings.Contains(d.Applied[0], "accepted by exception check=licenses package=some-gpl-lib (legal approved;") {
		t.Errorf("licence exception: %+v", d)
	}
	auditOnly := Policy{Exceptions: []Exception{{Kind: Vulnerability, Package: "some-gpl-lib", Versions: "<2", Reason: "not reachable", Expires: later}}}
	if d := Gate(auditOnly, lic, now); d.Pass {
		t.Errorf("an audit exception accepted a licence: %+v", d)
	}
	if d := Gate(auditOnly, vuln, now); !d.Pass || vuln.Findings[0].Exception == nil {
		t.Errorf("audit exception: %+v", d)
	}
	// A licence named in the exception implies its kind.
	named := Policy{Exceptions: []Exception{{Package: "some-gpl-lib", License: "GPL-3.0-only", Reason: "legal approved", Expires: later}}}
	vuln.Findings[0].License, vuln.Findings[0].Exception = "GPL-3.0-only", nil
	if d := Gate(named, vuln, now); d.Pass {
		t.Errorf("a licence exception accepted a vulnerability of a package with that licence: %+v", d)
	}
}
