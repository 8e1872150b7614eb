package vault

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Subject is who asks: a person or token with roles, or a pipeline run in
// an environment.
type Subject struct {
	Actor       string   // for the audit log, e.g. "alice" or "pipeline release#42"
	Roles       []string // e.g. admin, deployer, viewer
	Pipeline    string   // set for pipeline runs
	Environment string   // the environment a run deploys to
	Production  bool     // the run deploys to a production environment
	// System: the server itself, using its own keys (SystemKeys). Only
	// the server's code sets it, never for a request or a pipeline run.
	System bool
}

// IsRun reports whether the subject is a pipeline run.
func (s Subject) IsRun() bool { return s.Pipeline != "" }

// Permission is what a rule allows.
type Permission string

// Permissions: read a value, list metadata (names, versions, tags, dates),
// write (set, rotate, disable, delete, recover, purge, import).
const (
	PermRead  Permission = "read"
	PermList  Permission = "list"
	PermWrite Permission = "write"
)

// Rule allows subjects that have one of Roles, or runs of one of
// Pipelines, the permissions in Allow on secrets whose names match one of
// Secrets. Environments, when set, further limits the rule to runs (or
// callers) in a matching environment. Names, pipelines and environments
// are globs (path.Match: *, ?, [a-z]).
type Rule struct {
	Secrets      []string     `json:"secrets" yaml:"secrets"`
	Roles        []string     `json:"roles,omitempty" yaml:"roles"`
	Pipelines    []string     `json:"pipelines,omitempty" yaml:"pipelines"`
	Environments []string     `json:"environments,omitempty" yaml:"environments"`
	Allow        []Permission `json:"allow" yaml:"allow"`
}

// Policy is the list of rules; anything no rule allows is denied.
type Policy struct {
	Rules []Rule `json:"rules" yaml:"rules"`
	// Production names secrets (globs) that count as production besides
	// those set with the production flag: only production runs read them.
	Production []string `json:"production,omitempty" yaml:"production"`
}

// DefaultPolicy lets the admin role do everything and nobody else
// anything.
func DefaultPolicy() Policy {
	return Policy{Rules: []Rule{{Secrets: []string{"*"}, Roles: []string{"admin"},
		Allow: []Permission{PermRead, PermList, PermWrite}}}}
}

// Validate checks every glob and permission.
func (p Policy) Validate() error {
	var errs []error
	for i, r := range p.Rules {
		if len(r.Secrets) == 0 {
			errs = append(errs, fmt.Errorf("rule %d: secrets is empty; use [\"*\"] for all", i+1))
		}
		if len(r.Roles) == 0 && len(r.Pipelines) == 0 {
			errs = append(errs, fmt.Errorf("rule %d: names neither roles nor pipelines, so it would apply to everyone", i+1))
		}
		for _, g := range slices.Concat(r.Secrets, r.Pipelines, r.Environments) {
			if _, err := path.Match(g, ""); err != nil {
				errs = append(errs, fmt.Errorf("rule %d: glob %q: %w", i+1, g, err))
			}
		}
		for _, a := range r.Allow {
			if a != PermRead && a != PermList && a != PermWrite {
				errs = append(errs, fmt.Errorf("rule %d: allow %q: use read, list or write", i+1, a))
			}
		}
	}
	for _, g := range p.Production {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("production glob %q: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// IsProduction reports whether a secret counts as production: flagged, or
// named by a Production glob.
func (p Policy) IsProduction(name string, flagged bool) bool {
	return flagged || matchAny(p.Production, name)
}

// Check returns nil when subj may do perm on the secret name, else the
// reason it may not. production is the secret's flag.
func (p Policy) Check(subj Subject, perm Permission, name string, production bool) error {
	return p.check(subj, perm, name, production, name)
}

// check is Check with the reason naming the secret as shown.
func (p Policy) check(subj Subject, perm Permission, name string, production bool, shown string) error {
	if p.productionOnly(subj, perm, name, production) {
		return fmt.Errorf("%s is a production secret and run %s is not a production run", shown, subj.Pipeline)
	}
	for _, r := range p.Rules {
		if r.allows(subj, perm, name) {
			return nil
		}
	}
	return fmt.Errorf("no access rule gives %s %s on %s", describe(subj), perm, shown)
}

// productionOnly reports whether subj is a run that does not deploy to
// production asking to read a production secret, which no rule allows.
func (p Policy) productionOnly(subj Subject, perm Permission, name string, production bool) bool {
	return perm == PermRead && subj.IsRun() && !subj.Production && p.IsProduction(name, production)
}

func (r Rule) allows(subj Subject, perm Permission, name string) bool {
	if !slices.Contains(r.Allow, perm) || !matchAny(r.Secrets, name) {
		return false
	}
	if len(r.Environments) > 0 && !matchAny(r.Environments, subj.Environment) {
		return false
	}
	for _, role := range subj.Roles {
		if slices.Contains(r.Roles, role) {
			return true
		}
	}
	return subj.IsRun() && matchAny(r.Pipelines, subj.Pipeline)
}

func describe(s Subject) string {
	switch {
	case s.IsRun():
		return fmt.Sprintf("pipeline %s (environment %q)", s.Pipeline, s.Environment)
	case s.Actor != "":
		return fmt.Sprintf("%s (roles %v)", s.Actor, s.Roles)
	}
	return fmt.Sprintf("roles %v", s.Roles)
}

// authorize checks the policy and audits a denial. action names the
// audited action, e.g. secret.read; found says whether a secret has the
// name. The record names a secret that does not exist as AuditedName
// does, and the caller's answer names any secret so (whether it exists is
// not the answer of a denial).
func (v *Vault) authorize(ctx context.Context, subj Subject, perm Permission, action, name string, production, found bool) error {
	reason := v.pol.check(subj, perm, name, production, AuditedName(name))
	if reason == nil {
		return nil
	}
	cause, hint := ErrDenied, "an access rule in the vault policy must allow it"
	if v.pol.productionOnly(subj, perm, name, production) {
		cause, hint = ErrProductionOnly, "only a run that deploys to production reads it"
	}
	err := usererr.Wrap(usererr.Forbidden, cause, "access denied: "+reason.Error()).WithHint("%s", hint)
	shown := recorded(name, found)
	if aerr := v.audit(ctx, AuditEvent{Actor: subj.Actor, Action: action, Target: target(shown, 0),
		Outcome: OutcomeDenied, Detail: v.pol.check(subj, perm, name, production, shown).Error()}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}
