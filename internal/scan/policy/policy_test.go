package policy

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
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
	g := Gate(cfg)
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
	if g := Gate(nil); g.MinSeverity != "" || g.IncludeDev || len(g.Exceptions) != 0 {
		t.Errorf("no config: gate %+v", g)
	}
	if s := Secrets(nil); len(s.Exclude) != 0 || len(s.Allow) != 0 {
		t.Errorf("no config: secrets %+v", s)
	}
}
