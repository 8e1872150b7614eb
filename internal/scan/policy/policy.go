// Package policy turns phoenix.yaml's checks: section into the scanners'
// policies, for the phoenix check commands and the pipeline's gate steps
// alike, so a gate decides the same on a laptop and in a release.
package policy

import (
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/scan/license"
	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/secret"
)

// Gate is the policy of the gate deciding a report of kind: the audit's
// minimum severity, whether development-only packages count (DevGated),
// and checks.exceptions. A nil cfg is the zero policy.
func Gate(cfg *config.Config, kind report.Kind) report.Policy {
	if cfg == nil {
		return report.Policy{}
	}
	c := cfg.Checks
	p := report.Policy{MinSeverity: c.Audit.Severity, IncludeDev: DevGated(cfg, kind)}
	for _, e := range c.Exceptions {
		exp, _ := time.Parse(time.DateOnly, string(e.Expires)) // validated by config.Load
		p.Exceptions = append(p.Exceptions, report.Exception{Kind: report.CheckKind(e.CheckName()), ID: e.ID,
			Package: e.Package, Versions: e.Versions, License: e.License, Reason: e.Reason, Expires: exp})
	}
	return p
}

// DevGated reports whether the gate of kind fails on findings in packages
// only development needs: checks.audit.dev for vulnerabilities;
// checks.licenses.dev for licences, or when that is not set
// checks.audit.dev, which decided for both before. Other findings have no
// scope, and are gated wherever they are.
func DevGated(cfg *config.Config, kind report.Kind) bool {
	if cfg == nil {
		cfg = config.Default()
	}
	c := cfg.Checks
	switch kind {
	case report.Vulnerability:
		return c.Audit.Dev
	case report.License:
		if c.Licenses.Dev != nil {
			return *c.Licenses.Dev
		}
		return c.Audit.Dev
	}
	return true
}

// Licenses is checks.licenses on top of the scanner's built-in denials; a
// nil cfg is the built-in policy alone.
func Licenses(cfg *config.Config) license.Policy {
	p := license.DefaultPolicy()
	if cfg == nil {
		return p
	}
	lc := cfg.Checks.Licenses
	p.Allow, p.Review, p.Deny = lc.Allow, lc.Review, append(p.Deny, lc.Deny...)
	if lc.Unknown != "" {
		p.Unknown = lc.Unknown
	}
	return p
}

// Secrets is checks.secrets: the excluded globs and the allowlist; a nil
// cfg excludes and allows nothing.
func Secrets(cfg *config.Config) secret.Options {
	var opts secret.Options
	if cfg == nil {
		return opts
	}
	sc := cfg.Checks.Secrets
	opts.Exclude = sc.Exclude
	for _, a := range sc.Allowlist {
		opts.Allow = append(opts.Allow, secret.Allowed{Path: a.Path, Rule: a.Rule, Fingerprint: a.Fingerprint, Reason: a.Reason})
	}
	return opts
}
