package app

import (
	"context"
	"slices"
	"sync"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// With --sites-domain D every environment answers at <env>.<project>.D.
// Ordered one by one (HTTP-01 at the first HTTPS request), previews
// would spend an ACME order each and soon meet the CA's rate limits (Let's
// Encrypt: 50 certificates a week per registered domain). With DNS-01
// configured, each project's environments share one wildcard instead,
// *.<project>.D, managed up front (manageWildcards, acme_dns.go).

// sitesCerts is the set of sites wildcards last given to manageWildcards.
type sitesCerts struct {
	mu    sync.Mutex
	names []string
}

// syncSitesCerts gives manageWildcards *.<project>.<SitesDomain> for every
// project with an environment, when the set changed. Without a sites
// domain or DNS-01 it does nothing: the names stay on demand.
func (a *App) syncSitesCerts(ctx context.Context) {
	if a.opts.SitesDomain == "" || !a.opts.ACME.Enabled || a.opts.ACME.DNS01 == nil {
		return
	}
	envs, err := a.Deploy.Environments(ctx, "")
	if err != nil {
		a.log.Error("acme: list the projects for their sites wildcards", "err", err)
		return
	}
	names := sitesWildcards(envs, a.opts.SitesDomain)
	s := &a.sitesCerts
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Equal(names, s.names) {
		return
	}
	if _, err := a.manageWildcards(ctx, names); err != nil {
		a.log.Error("acme: sites wildcards", "err", err)
	}
	s.names = names
}

// sitesWildcards is *.<project>.<domain> for each project of envs, sorted.
func sitesWildcards(envs []deploy.Environment, domain string) []string {
	var names []string
	for _, e := range envs {
		n := "*." + e.Project + "." + domain
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
