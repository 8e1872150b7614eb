package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Policy says which findings fail a release.
type Policy struct {
	// MinSeverity: vulnerabilities at or above it fail (default "high").
	MinSeverity string
	// IncludeDev also gates on packages only development needs.
	IncludeDev bool
	// AllowProblems lets a report with unchecked input pass. Off by default:
	// gates fail closed.
	AllowProblems bool
	// Exceptions accept single findings until they expire.
	Exceptions []Exception
}

// Exception accepts findings matching every field that is set, until the
// end of the Expires day (UTC). Reason is required. Kind limits it to one
// check's findings: without it, a package's exception written for a
// reviewed licence would also accept every vulnerability of the package.
type Exception struct {
	// Kind is the kind of finding the exception accepts; when empty, the
	// kind its fields imply (License: licences; Fingerprint: secrets), else
	// any. The gate's policy sets it from checks.exceptions' check.
	Kind        Kind      `json:"kind,omitempty"`
	ID          string    `json:"id,omitempty"`          // advisory id or alias, or secret rule id
	Package     string    `json:"package,omitempty"`     // package name
	Versions    string    `json:"versions,omitempty"`    // semver constraint, e.g. "<4.17.21"
	License     string    `json:"license,omitempty"`     // licence expression or id accepted for Package
	Fingerprint string    `json:"fingerprint,omitempty"` // secret finding fingerprint
	Reason      string    `json:"reason"`
	Expires     time.Time `json:"expires"` // the last day it applies
}

// Applied records an exception used by a gate decision, for the audit log.
type Applied struct {
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
	Match   string    `json:"match"` // the exception's fields, e.g. "id=GHSA-… package=lodash"
}

// Decision is a gate's verdict.
type Decision struct {
	Pass    bool     `json:"pass"`
	Reasons []string `json:"reasons,omitempty"` // why it failed, one per failing finding or problem
	Applied []string `json:"applied,omitempty"` // "finding: exception (reason, expires)" for the audit log
	Expired []string `json:"expired,omitempty"` // exceptions that matched but no longer apply
}

// Gate decides whether r passes p at time now. It marks findings covered by
// an exception (Finding.Exception) so the written reports show them.
func Gate(p Policy, r *Report, now time.Time) Decision {
	d := Decision{}
	if !p.AllowProblems {
		for _, pr := range r.Problems {
			d.Reasons = append(d.Reasons, "not checked (failing closed): "+pr.String())
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if !fails(p, f) {
			continue
		}
		if e, expired := match(p.Exceptions, f, now); e != nil {
			f.Exception = &Applied{Reason: e.Reason, Expires: e.Expires, Match: e.describe()}
			d.Applied = append(d.Applied, fmt.Sprintf("%s: accepted by exception %s (%s; expires %s)",
				f.label(), e.describe(), e.Reason, e.Expires.Format(time.DateOnly)))
			continue
		} else if expired != nil {
			d.Expired = append(d.Expired, fmt.Sprintf("%s: exception %s expired on %s", f.label(), expired.describe(), expired.Expires.Format(time.DateOnly)))
		}
		d.Reasons = append(d.Reasons, f.label())
	}
	d.Pass = len(d.Reasons) == 0
	return d
}

func fails(p Policy, f *Finding) bool {
	if f.Dev && !p.IncludeDev {
		return false
	}
	switch f.Kind {
	case Vulnerability:
		min := p.MinSeverity
		if min == "" {
			min = "high"
		}
		return !f.Withdrawn && (Rank(f.Severity) >= Rank(min) || f.Severity == "unknown" && Rank(min) <= 2)
	case License:
		return f.Verdict == "deny" || f.Verdict == "review"
	case Secret:
		return true
	}
	return true
}

// match returns the first live exception covering f, or else the first
// expired one that would have.
func match(list []Exception, f *Finding, now time.Time) (live, expired *Exception) {
	for i := range list {
		e := &list[i]
		if e.Reason == "" || !e.covers(f) {
			continue
		}
		if now.Before(e.Expires.Truncate(24 * time.Hour).Add(24 * time.Hour)) {
			return e, nil
		}
		if expired == nil {
			expired = e
		}
	}
	return nil, expired
}

func (e *Exception) covers(f *Finding) bool {
	if e.ID == "" && e.Package == "" && e.Fingerprint == "" && e.License == "" {
		return false
	}
	if k := e.kind(); k != "" && k != f.Kind {
		return false
	}
	if e.ID != "" && e.ID != f.RuleID && !slices.Contains(f.Aliases, e.ID) {
		return false
	}
	if e.Package != "" && e.Package != f.Package {
		return false
	}
	if e.License != "" && !strings.EqualFold(e.License, f.License) && !strings.EqualFold(e.License, f.RuleID) {
		return false
	}
	if e.Fingerprint != "" && e.Fingerprint != f.Fingerprint {
		return false
	}
	if e.Versions != "" {
		c, err := semver.NewConstraint(e.Versions)
		if err != nil {
			return false
		}
		v, err := semver.NewVersion(f.Version)
		if err != nil || !c.Check(v) {
			return false
		}
	}
	return true
}

// checkOf names the check of phoenix.yaml that reports findings of a kind.
var checkOf = map[Kind]string{Vulnerability: "audit", License: "licenses", Secret: "secrets"}

// CheckKind is the kind of finding the check of phoenix.yaml named check
// reports ("audit": vulnerabilities), "" for no such check: an exception
// of checks.exceptions accepts only its check's findings.
func CheckKind(check string) Kind {
	for k, c := range checkOf {
		if c == check {
			return k
		}
	}
	return ""
}

// kind is the kind of finding e accepts, "" for any: Kind, or the kind
// its fields imply (a licence is only on licence findings, a fingerprint
// only on secrets).
func (e *Exception) kind() Kind {
	switch {
	case e.Kind != "":
		return e.Kind
	case e.License != "":
		return License
	case e.Fingerprint != "":
		return Secret
	}
	return ""
}

// describe writes e's fields as the audit log shows them. The check comes
// first when no other field says which one it is, so a package's
// exception for its licence does not read as one for the whole package.
func (e *Exception) describe() string {
	var parts []string
	if e.ID == "" && e.License == "" && e.Fingerprint == "" && e.Kind != "" {
		parts = append(parts, "check="+checkOf[e.Kind])
	}
	for _, kv := range [][2]string{{"id", e.ID}, {"package", e.Package}, {"versions", e.Versions}, {"license", e.License}, {"fingerprint", e.Fingerprint}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func (f *Finding) label() string {
	switch f.Kind {
	case Vulnerability:
		return fmt.Sprintf("%s %s@%s (%s, %s)", f.RuleID, f.Package, f.Version, f.Severity, scope(*f))
	case License:
		return fmt.Sprintf("licence %s of %s@%s: %s", dash(f.License), f.Package, f.Version, f.Verdict)
	}
	return fmt.Sprintf("%s at %s:%d (%s)", f.RuleID, f.File, f.Line, f.Redacted)
}
