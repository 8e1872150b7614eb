package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Environment is one deployment target, e.g. staging or production.
type Environment struct {
	Domains      []string          `yaml:"domains" doc:"Custom host names served for this environment, e.g. www.example.com."`
	Protection   Protection        `yaml:"protection" doc:"Guards against accidental changes."`
	IPAllow      []string          `yaml:"ip_allow" doc:"Client address ranges (CIDR or single IPs) allowed in; empty allows everyone."`
	Auth         Auth              `yaml:"auth" doc:"Who may sign in to the environment and with which roles."`
	HealthChecks []Endpoint        `yaml:"health_checks" doc:"Probes run after each deployment; a failure rolls back. URLs may be paths like /health."`
	LoadTest     map[string]any    `yaml:"load_test" doc:"A load test the release pipeline runs after this environment's health check, before the next environment: the load-test action's inputs without environment or url, e.g. {paths: [/], rate: 50, duration: 30s, thresholds: {p95: 300ms}}."`
	Preview      Preview           `yaml:"preview" doc:"Short-lived preview environments derived from this one (true, or settings)."`
	PromoteFrom  string            `yaml:"promote_from" pattern:"slug" doc:"Only artifacts that ran on this environment (deployed there and not failed or still pending verification) may be deployed here."`
	Rollback     RollbackPolicy    `yaml:"rollback" doc:"What happens when verification fails."`
	Env          EnvMap            `yaml:"env" doc:"Environment variables for pipeline steps targeting this environment."`
	Tags         map[string]string `yaml:"tags" doc:"Free-form labels, e.g. criticality: high."`
}

func (e *Environment) setDefaults() {
	e.Rollback = RollbackPolicy{Auto: true, Keep: 10}
}

// Protection guards an environment.
type Protection struct {
	Lock      bool     `yaml:"lock" doc:"The environment cannot be deleted or emptied (like a CanNotDelete lock)."`
	Approvals int      `yaml:"approvals" min:"0" max:"10" doc:"Approvals needed before a deployment starts."`
	Approvers []string `yaml:"approvers" doc:"Roles or user names allowed to approve, e.g. admin."`
}

// Auth restricts who may use an environment.
type Auth struct {
	Provider string   `yaml:"provider" enum:"none,oidc,token" doc:"Sign-in provider for the site (default none: public)."`
	Roles    []string `yaml:"roles" doc:"Roles known to the site's routes, e.g. admin, contributor."`
}

// RollbackPolicy says what happens when a deployment fails verification.
type RollbackPolicy struct {
	Auto bool `yaml:"auto" doc:"Re-activate the previous release automatically (default true)."`
	Keep int  `yaml:"keep" min:"0" max:"1000" doc:"Releases kept ready for instant rollback (default 10; 0 means the default)."`
}

// Preview configures preview environments; "preview: true" turns them on
// with defaults.
type Preview struct {
	Enabled bool     `yaml:"enabled" doc:"Allow preview environments (phoenix deploy --preview NAME); without it the server refuses them."`
	TTL     Duration `yaml:"ttl" doc:"The server deletes a preview after this long without deploys (default 7d; 0 keeps them)."`
	Max     int      `yaml:"max" min:"0" max:"1000" doc:"Most previews kept at once: a new one beyond it deletes the least recently deployed; 0 means no limit."`
}

func (p *Preview) decodeNode(d *decoder, n *yaml.Node, path string) {
	if b, ok := parseBool(n); ok {
		*p = Preview{Enabled: b, TTL: Duration(7 * 24 * time.Hour)}
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "true, false or a mapping", "")
		return
	}
	type plain Preview
	x := plain{Enabled: true, TTL: Duration(7 * 24 * time.Hour)}
	d.decodeStruct(n, reflect.ValueOf(&x).Elem(), path)
	*p = Preview(x)
}

func (Preview) jsonSchema(g *schemaGen) map[string]any {
	type plain Preview
	return map[string]any{"oneOf": []any{map[string]any{"type": "boolean"}, g.structSchema(reflect.TypeFor[plain]())}}
}

// hostRx matches a DNS host name (labels of letters, digits and '-').
var hostRx = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func validHost(h string) bool { return len(h) <= 253 && hostRx.MatchString(h) }

// hostHint says how to write the domain h that is not a valid host name:
// the trailing dot of a fully qualified name (www.example.com.) is named,
// as the general hint reads as if something else were wrong.
func hostHint(h string) string {
	if t := strings.TrimSuffix(h, "."); t != h && validHost(t) {
		return fmt.Sprintf("write it without the trailing dot: %s", clip(t))
	}
	return "write a bare host name such as www.example.com, without scheme or path"
}

func (c *Config) validateEnvironments(v *validator) {
	owner := map[string]string{}
	for _, name := range c.EnvironmentNames() {
		e, p := c.Environments[name], joinPath("environments", name)
		if e == nil {
			continue
		}
		for i, d := range e.Domains {
			dp := indexPath(p+".domains", i)
			if !validHost(d) {
				v.errorf(dp, hostHint(d), "%q is not a valid host name", clip(d))
			} else if prev, dup := owner[strings.ToLower(d)]; dup {
				v.errorf(dp, "each domain belongs to one environment", "%s is also a domain of %s", d, prev)
			}
			owner[strings.ToLower(d)] = name
		}
		for i, r := range e.IPAllow {
			if !validRange(r) {
				v.errorf(indexPath(p+".ip_allow", i), "write a CIDR range such as 203.0.113.0/24 or a single address",
					"%q is not an IP address or range", clip(r))
			}
		}
		c.validateEnvRefs(v, p, name, e)
		validateEnvLoadTest(v, p+".load_test", name, e.LoadTest)
		validateEndpoints(v, p+".health_checks", e.HealthChecks, true)
	}
}

func (c *Config) validateEnvRefs(v *validator, p, name string, e *Environment) {
	if e.PromoteFrom == name {
		v.errorf(p+".promote_from", "promote from another environment, e.g. staging", "an environment cannot promote from itself")
	} else if chain := c.promotionCycle(name); chain != nil {
		v.errorf(p+".promote_from", "remove promote_from from one of them, the first to deploy to",
			"environments promote from each other in a circle (%s), so none of them could ever be deployed to", strings.Join(chain, " -> "))
	} else {
		v.envRef(p+".promote_from", e.PromoteFrom)
	}
	if e.Protection.Approvals > 0 && len(e.Protection.Approvers) == 0 {
		v.warnf(p+".protection.approvers", "list roles such as admin", "approvals are required but no approvers are listed; any user allowed to approve (the approver or admin role) may")
	}
	if e.Preview.TTL < 0 {
		v.errorf(p+".preview.ttl", "", "must not be negative")
	}
}

// promotionCycle returns the environments from name along promote_from
// back to name when they form a circle (none of them could be deployed
// to: each needs what another ran first); nil otherwise.
func (c *Config) promotionCycle(name string) []string {
	chain := []string{name}
	for cur := name; ; {
		e := c.Environments[cur]
		if e == nil || e.PromoteFrom == "" || slices.Contains(chain[1:], e.PromoteFrom) {
			return nil
		}
		chain = append(chain, e.PromoteFrom)
		if e.PromoteFrom == name {
			return chain
		}
		cur = e.PromoteFrom
	}
}

func validRange(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil && !strings.Contains(s, "%")
}
