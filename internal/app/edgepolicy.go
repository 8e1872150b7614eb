package app

import (
	"context"
	"net/netip"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// A project's edge policy (phoenix.yaml's edge:, stored by deploy) is
// applied to each of its environments at every publish, read from the
// database then. A change re-publishes the project's environments here,
// and on the other replicas through DeployChannel and their poll
// (syncEdge compares what each environment applies with what is stored).

// edgePolicy turns a project's policy into the edge's; nil for none.
func (a *App) edgePolicy(e *config.Edge) (*edge.Policy, error) {
	if e.IsZero() {
		return nil, nil
	}
	p := &edge.Policy{}
	rules := slices.Clone(e.Headers)
	slices.SortStableFunc(rules, func(x, y config.HeaderRule) int { return x.Order - y.Order })
	for _, h := range rules {
		p.Headers = append(p.Headers, edge.PolicyRule{Name: h.Name, Scheme: h.Match.Scheme, Path: h.Match.Path, Set: h.Set, Remove: h.Remove})
	}
	if rl := e.RateLimit; rl != nil {
		p.RateLimit = &edge.RateLimit{Requests: rl.Requests, Per: rl.Per.D(), Burst: rl.Burst}
		for _, s := range rl.Exempt {
			p.RateLimit.Exempt = append(p.RateLimit.Exempt, parseRange(s))
		}
	}
	fw, err := a.firewall(e.WAF) // firewall.go
	if err != nil {
		return nil, err
	}
	p.Firewall = fw
	return p, p.Check()
}

// parseRange reads a CIDR range or a single address, as config validated.
func parseRange(s string) netip.Prefix {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked()
	}
	ip, _ := netip.ParseAddr(s)
	return netip.PrefixFrom(ip, ip.BitLen())
}

// checkEdgePolicy is deploy's CheckEdge: the edge must be able to apply
// a policy before it is stored.
func (a *App) checkEdgePolicy(_ context.Context, _ string, e *config.Edge) error {
	_, err := a.edgePolicy(e)
	return err
}

// policyOf reads project's policy and builds it for the edge; it also
// returns the canonical form, to tell later whether it changed.
func (a *App) policyOf(ctx context.Context, project string) (*edge.Policy, string, error) {
	e, err := a.Deploy.EdgePolicy(ctx, project)
	if err != nil {
		return nil, "", err
	}
	p, err := a.edgePolicy(e)
	if err != nil {
		return nil, "", err
	}
	canon, err := e.Canonical()
	return p, string(canon), err
}

// republish applies project's changed policy to its environments.
func (a *App) republish(ctx context.Context, project string) {
	active, err := a.Deploy.Active(ctx)
	if err != nil {
		a.log.Error("edge: read the active deployments for a policy change", "project", project, "err", err)
		return
	}
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	for _, r := range active {
		if r.Project != project {
			continue
		}
		if err := a.publishLocked(ctx, r); err != nil {
			a.log.Error("edge: cannot apply the edge policy", "project", project, "env", r.Environment, "err", err)
		}
	}
}
