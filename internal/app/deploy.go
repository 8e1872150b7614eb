package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/artifactsite"
)

func (a *App) openDeploy() error {
	blobs := a.store
	a.keys = &signingKeys{dir: filepath.Join(a.opts.DataDir, "keys"), log: a.log}
	a.Deploy = deploy.New(deploy.Options{DB: a.DB, Blobs: blobs, KeySource: a.keys.key, Logger: a.log.With("domain", "deploy"),
		Keep: a.opts.Keep, SitesDomain: a.opts.SitesDomain,
		Audit: a.auditDeploy, CheckEdge: a.checkEdgePolicy, Verify: verifies, Previews: a.previewPolicy, // verify.go, preview.go
		Check: func(ctx context.Context, r deploy.Release) error {
			m, err := r.Manifest()
			if err != nil {
				return err
			}
			_, err = artifactsite.Config(ctx, m, blobs)
			return err
		}})
	a.sites = &siteCache{}
	a.Deploy.OnActivate(func(r deploy.Release) {
		if err := a.publish(context.Background(), r); err != nil {
			a.log.Error("edge: cannot serve the activated release", "project", r.Project, "env", r.Environment, "err", err)
		}
	})
	a.Deploy.OnEnvDelete(func(project, env string) { a.unpublish(edgeName(project, env)) })
	return nil
}

// unpublish stops the edge serving edge environment name (deleted): its
// host names answer "unknown host" from the next request on.
func (a *App) unpublish(name string) {
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	a.unpublishLocked(name)
}

// unpublishLocked is unpublish; a.edge.mu is held.
func (a *App) unpublishLocked(name string) {
	if a.Hosts != nil {
		a.Hosts.RemoveEnv(name)
	}
	delete(a.edge.served, name)
	delete(a.edge.undeployed, name)
	delete(a.edge.applied, name)
	delete(a.edge.blobs, name)
	a.log.Info("edge: stopped serving a deleted environment", "env", name)
}

// edgeName is the edge's name for an environment, unique across projects.
func edgeName(project, env string) string { return env + "." + project }

// publish points the edge at r.
func (a *App) publish(ctx context.Context, r deploy.Release) error {
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	return a.publishLocked(ctx, r)
}

// publishLocked points the edge at r; a.edge.mu is held.
func (a *App) publishLocked(ctx context.Context, r deploy.Release) error {
	site, err := a.sites.get(ctx, r, a.store)
	if err != nil {
		return err
	}
	name := edgeName(r.Project, r.Environment)
	allow, err := deploy.ParseAllowList(r.IPAllow)
	if err != nil {
		return err
	}
	policy, canon, err := a.policyOf(ctx, r.Project) // edgepolicy.go
	if err != nil {
		return err
	}
	if err := a.Hosts.SetPolicy(name, policy); err != nil {
		return err
	}
	a.Hosts.SetSite(name, site)
	if err := a.Hosts.SetAllowedIPs(name, allow); err != nil {
		return err
	}
	if err := a.routeHosts(name, r); err != nil {
		return err
	}
	if a.edge.served == nil {
		a.edge.served, a.edge.blobs, a.edge.applied = map[string]int64{}, map[string][]backend.Digest{}, map[string]string{}
	}
	a.edge.served[name], a.edge.applied[name] = r.Deployment.ID, appliedKey(canon, r)
	delete(a.edge.undeployed, name)
	var blobs []backend.Digest
	if m, err := r.Manifest(); err == nil {
		for _, b := range m.Blobs() {
			blobs = append(blobs, b.Digest)
		}
	}
	a.edge.blobs[name] = blobs
	return nil
}

// routeHosts routes exactly r's host names to edge environment name: its
// default name, its name under SitesDomain and its custom domains; a
// domain taken off the environment stops being routed to it.
func (a *App) routeHosts(name string, r deploy.Release) error {
	a.certs.warnUncovered(a.log, name, r.Domains) // once the edge's certificates are loaded
	return a.Hosts.SetHosts(name, a.hostsOf(r.Project, r.Environment, r.Domains))
}

// appliedKey is what the edge applies to a release's environment besides
// the release: the project's edge policy (canonical JSON) and the
// environment's domains and allow-list. A replica re-publishes an
// environment whose key changed.
func appliedKey(policy string, r deploy.Release) string {
	return policy + "\x00" + strings.Join(r.Domains, ",") + "\x00" + strings.Join(r.IPAllow, ",")
}

func (a *App) startEdge(ctx context.Context) error {
	a.Hosts = edge.NewHosts()
	sessionKey, err := a.edgeSessionKey(ctx) // edgesession.go
	if err != nil {
		return err
	}
	users, err := a.edgeUsers(ctx) // edgeauth.go
	if err != nil {
		return err
	}
	alog, err := a.openAccessLog() // accesslog.go
	if err != nil {
		return err
	}
	h, err := edge.NewHandler(a.Hosts, edge.Options{Logger: a.log.With("component", "edge"), NotFoundPage: "/404.html",
		Headers: a.opts.EdgeHeaders, Authenticator: a.edgeAuthenticator(), Users: users, SessionKey: sessionKey,
		TrustedProxies: a.opts.TrustedProxies, MetricsAllow: a.opts.EdgeMetricsAllow, ProbeToken: a.probeToken, AccessLog: alog})
	if err != nil {
		return err
	}
	a.Edge = h
	a.Deploy.OnEdgePolicy(func(project string) { a.republish(context.Background(), project) })
	active, err := a.Deploy.Active(ctx)
	if err != nil {
		return err
	}
	served := a.servable(ctx, active)
	for _, r := range served {
		if err := a.publish(ctx, r); err != nil {
			a.log.Error("edge: cannot serve release", "project", r.Project, "env", r.Environment, "err", err)
		}
	}
	a.routeUndeployed(ctx) // undeployed.go: 503, not "unknown host"
	a.syncSitesCerts(ctx)  // sites.go: a wildcard per project under --sites-domain
	a.Deploy.OnActivate(func(deploy.Release) { a.syncSitesCerts(context.Background()) })
	defer func() { // the certificates are loaded by then
		for _, r := range served {
			a.certs.warnUncovered(a.log, edgeName(r.Project, r.Environment), r.Domains)
		}
	}()
	if a.opts.EdgeTLSListen != "" {
		return a.startEdgeTLS(h) // acme.go
	}
	fcs, err := a.fileCertificates() // certificates.go
	if err != nil {
		return err
	}
	ln, err := a.listen(SocketEdge, "edge", a.opts.EdgeListen)
	if err != nil {
		return err
	}
	a.edgeAddr = ln.Addr()
	lim, err := a.edgeConnLimit()
	if err != nil {
		return err
	}
	srv := &edge.Server{Handler: h, Logger: a.log, Loops: a.opts.EdgeLoops, IdleTimeout: a.opts.EdgeIdleTimeout, ConnLimit: lim}
	if fcs != nil {
		srv.TLSConfig = &tls.Config{GetCertificate: certs.ChooseFile(fcs), MinVersion: tls.VersionTLS12}
	}
	a.runEdge(srv, ln)
	attrs := []any{"addr", a.edgeAddr.String()}
	if fcs == nil { // plain HTTP: served by the event loops
		attrs = append(attrs, "loops", edge.Loops(a.opts.EdgeLoops))
	}
	a.log.Info("edge listening", attrs...)
	return nil
}

// edgeConnLimit is the cap on one client's connections that the edge's
// listeners share (nil: no cap); the trusted proxies are not counted.
func (a *App) edgeConnLimit() (*edge.ConnLimit, error) {
	if a.opts.EdgeMaxConnsPerIP <= 0 {
		return nil, nil
	}
	return edge.NewConnLimit(a.opts.EdgeMaxConnsPerIP, a.opts.TrustedProxies)
}

// siteCache keeps the edge index of recent releases by deployment, so a
// rollback to one of them is a pointer swap with no manifest decoding.
type siteCache struct {
	mu    sync.Mutex
	order []string
	sites map[string]edge.Site
}

const siteCacheSize = 16

func (c *siteCache) get(ctx context.Context, r deploy.Release, blobs backend.Backend) (edge.Site, error) {
	id := fmt.Sprintf("%d:%s", r.Deployment.ID, r.Deployment.Artifact)
	c.mu.Lock()
	if s, ok := c.sites[id]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	m, err := r.Manifest()
	if err != nil {
		return nil, err
	}
	s, err := artifactsite.New(ctx, id, m, blobs)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sites == nil {
		c.sites = map[string]edge.Site{}
	}
	c.sites[id] = s
	c.order = append(c.order, id)
	if len(c.order) > siteCacheSize {
		delete(c.sites, c.order[0])
		c.order = c.order[1:]
	}
	return s, nil
}
