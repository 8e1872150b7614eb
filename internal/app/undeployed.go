package app

import (
	"context"
	"strings"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// routeUndeployed routes the host names of the environments that exist
// but that this edge serves nothing for (a release declared them and has
// not deployed yet, or its first deploy failed; on a replica, their first
// release's blobs cannot be fetched yet) to the edge with nothing to
// serve: their visitors get 503, not the 404 "unknown host" that reads as
// a wrong DNS name. It takes edge.mu.
func (a *App) routeUndeployed(ctx context.Context) {
	a.edge.mu.Lock() // before the read: a deletion unpublishing meanwhile is not undone
	defer a.edge.mu.Unlock()
	envs, err := a.Deploy.Environments(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("edge: read the environments", "err", err)
		}
		return
	}
	a.routeUndeployedLocked(envs)
}

// routeUndeployedLocked is routeUndeployed over envs, every environment of
// every project; a.edge.mu is held. An environment it routed that has
// gone (deleted) stops being routed; one served since is publish's.
func (a *App) routeUndeployedLocked(envs []deploy.Environment) {
	if a.edge.undeployed == nil {
		a.edge.undeployed = map[string]string{}
	}
	still := make(map[string]bool, len(envs))
	for _, e := range envs {
		name := edgeName(e.Project, e.Name)
		if _, served := a.edge.served[name]; served {
			continue // publish and dropDeleted own it
		}
		still[name] = true
		key := strings.Join(e.Domains, ",") + "\x00" + strings.Join(e.IPAllow, ",")
		if a.edge.undeployed[name] == key {
			continue
		}
		if err := a.routeEmpty(name, e); err != nil {
			a.log.Error("edge: cannot route an environment with nothing deployed", "project", e.Project, "env", e.Name, "err", err)
			continue
		}
		a.edge.undeployed[name] = key
	}
	for name := range a.edge.undeployed {
		if !still[name] {
			delete(a.edge.undeployed, name)
			if _, served := a.edge.served[name]; !served {
				a.Hosts.RemoveEnv(name)
			}
		}
	}
}

// routeEmpty routes environment e's host names, with its allow-list, to
// edge environment name, which serves nothing.
func (a *App) routeEmpty(name string, e deploy.Environment) error {
	allow, err := deploy.ParseAllowList(e.IPAllow)
	if err != nil {
		return err
	}
	if err := a.Hosts.SetHosts(name, a.hostsOf(e.Project, e.Name, e.Domains)); err != nil {
		return err
	}
	return a.Hosts.SetAllowedIPs(name, allow)
}

// hostsOf is every host name of an environment: its default name, its
// name under SitesDomain and its custom domains.
func (a *App) hostsOf(project, env string, domains []string) []string {
	hosts := append([]string{edge.DefaultHost(env, project)}, domains...)
	if a.opts.SitesDomain != "" {
		hosts = append(hosts, edge.SitesHost(env, project, a.opts.SitesDomain))
	}
	return hosts
}
