package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// TestFromConfig: each policy carries its part of checks:, and a missing
// config gives the zero gate policy, the built-in licence denials and no
// secret exclusions.
func TestFromConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`project: {name: site}
checks:
  audit: {severity: high, dev: true}
  licenses: {deny: [WTFPL], unknown: review}
  secrets:
    exclude: ["fixtures/**"]
    allowlist: [{fingerprint: "aws-access-key-id:bb641136ef213556", reason: test key}]
  exceptions: [{id: GHSA-xxxx-yyyy-zzzz, reason: not reachable, expires: 2027-01-31}]
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := Gate(cfg, report.Vulnerability)
	if g.MinSeverity != "high" || !g.IncludeDev || len(g.Exceptions) != 1 || g.Exceptions[0].Expires.Format("2006-01-02") != "2027-01-31" {
		t.Errorf("gate %+v", g)
	}
	l := Licenses(cfg)
	if l.Unknown != "review" || len(l.Deny) != len(Licenses(nil).Deny)+1 || l.Deny[len(l.Deny)-1] != "WTFPL" {
		t.Errorf("licences %+v", l)
	}
	s := Secrets(cfg)
	if len(s.Exclude) != 1 || len(s.Allow) != 1 || s.Allow[0].Fingerprint != "aws-access-key-id:bb641136ef213556" || s.Allow[0].Reason != "test key" {
		t.Errorf("secrets %+v", s)
	}
	if g := Gate(nil, report.Vulnerability); g.MinSeverity != "" || g.IncludeDev || len(g.Exceptions) != 0 {
		t.Errorf("no config: gate %+v", g)
	}
	if s := Secrets(nil); len(s.Exclude) != 0 || len(s.Allow) != 0 {
		t.Errorf("no config: secrets %+v", s)
	}
}

// TestDevGated: the audit follows checks.audit.dev and the licence gate
// checks.licenses.dev; a file that does not set the latter keeps the
// licence gate on checks.audit.dev, as before the setting existed, and is
// warned (file, line and field) that it does. Secrets are gated anywhere.
func TestDevGated(t *testing.T) {
	tests := []struct {
		name, checks   string
		audit, license bool
		warning        string // "" for none
	}{
		{"defaults", "{}", false, false, ""},
		{"audit.dev alone, as before", "{audit: {dev: true}}", true, true,
			"phoenix.yaml:2:18: warning: checks.audit.dev: also gates the licences of development-only packages while checks.licenses.dev is not set"},
		{"licenses.dev false", "{audit: {dev: true}, licenses: {dev: false}}", true, false, ""},
		{"licenses.dev alone", "{licenses: {dev: true}}", false, true, ""},
		{"both false", "{audit: {dev: false}, licenses: {dev: false}}", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("project: {name: site}\nchecks: "+tt.checks+"\n"), "phoenix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if a, l := DevGated(cfg, report.Vulnerability), DevGated(cfg, report.License); a != tt.audit || l != tt.license {
				t.Errorf("dev gated: audit %v, licences %v; want %v, %v", a, l, tt.audit, tt.license)
			}
			if g := Gate(cfg, report.License); g.IncludeDev != tt.license {
				t.Errorf("licence gate policy %+v", g)
			}
			if got := cfg.Warnings.Error(); (tt.warning == "") != (len(cfg.Warnings) == 0) || !strings.HasPrefix(got, tt.warning) {
				t.Errorf("warnings %q, want %q", got, tt.warning)
			}
			if !DevGated(cfg, report.Secret) {
				t.Error("secrets are not gated everywhere")
			}
		})
	}
	if DevGated(nil, report.Vulnerability) || DevGated(nil, report.License) || !DevGated(nil, report.Secret) {
		t.Error("no config: only secrets are gated in development packages")
	}
}

// TestExceptionsKeepToTheirCheck: a checks.exceptions entry reaches the
// gate of its own check only; check: licenses on a package leaves the
// package's vulnerabilities failing, and check: audit on a package's
// versions does not accept the package's licence.
func TestExceptionsKeepToTheirCheck(t *testing.T) {
	cfg, err := config.Parse([]byte(`project: {name: site}
checks:
  exceptions:
    - {check: licenses, package: some-gpl-lib, reason: legal approved, expires: 2099-01-31}
    - {check: audit, package: lodash, versions: "<5", reason: not reachable, expires: 2099-01-31}
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	gate := func(kind report.Kind, f report.Finding) report.Decision {
		r := report.New(kind, ".", now)
		f.Kind, f.Version = kind, "1.0.0"
		r.Findings = []report.Finding{f}
		return report.Gate(Gate(cfg, kind), r, now)
	}
	for name, tc := range map[string]struct {
		kind report.Kind
		f    report.Finding
		pass bool
	}{
		"licence of some-gpl-lib":       {report.License, report.Finding{RuleID: "license/review", Verdict: "review", Package: "some-gpl-lib"}, true},
		"vulnerability of some-gpl-lib": {report.Vulnerability, report.Finding{RuleID: "GHSA-2", Severity: "critical", Package: "some-gpl-lib"}, false},
		"vulnerability of lodash":       {report.Vulnerability, report.Finding{RuleID: "GHSA-jf85-cpcp-j695", Severity: "critical", Package: "lodash"}, true},
		"licence of lodash":             {report.License, report.Finding{RuleID: "license/deny", Verdict: "deny", Package: "lodash"}, false},
	} {
		if d := gate(tc.kind, tc.f); d.Pass != tc.pass {
			t.Errorf("%s: pass %v, want %v: %+v", name, d.Pass, tc.pass, d)
		}
	}
}
