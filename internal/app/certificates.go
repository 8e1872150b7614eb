package app

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// certInventory is what the edge answers TLS with: certificates from
// files and, with ACME, the Manager's. It serves GET /api/v1/certificates
// and the monitor's built-in certificate expiry alert.
type certInventory struct {
	mu    sync.Mutex
	files []*certs.FileCert
	mgr   *certs.Manager // nil without ACME
	// domains is the ACME decision (nil without ACME): which environment
	// a failing domain belongs to.
	domains *customDomains
	// managed is what the Manager manages up front through DNS-01.
	managed managedNames
	// uncovered are the custom domains warnUncovered logged.
	uncovered sync.Map
}

func (c *certInventory) set(files []*certs.FileCert, mgr *certs.Manager) {
	c.mu.Lock()
	c.files, c.mgr = files, mgr
	c.mu.Unlock()
}

func (c *certInventory) setDomains(d *customDomains) {
	c.mu.Lock()
	c.domains = d
	c.mu.Unlock()
}

// list returns every certificate the edge holds, soonest expiry first;
// none when the edge serves plain HTTP only.
func (c *certInventory) list(ctx context.Context) ([]certs.Info, error) {
	c.mu.Lock()
	files, mgr := c.files, c.mgr
	c.mu.Unlock()
	if mgr != nil {
		return mgr.Certificates(ctx) // the files' ones too
	}
	return certs.Files(certs.FileCerts(files)), nil
}

// warnUncovered logs, once per domain, each of domains (of edge
// environment env) that the edge answers over HTTPS with its certificate
// files alone, no ACME, while none of them covers it: that domain gets a
// certificate for other names, which browsers refuse.
func (c *certInventory) warnUncovered(log *slog.Logger, env string, domains []string) {
	c.mu.Lock()
	files, mgr := c.files, c.mgr
	c.mu.Unlock()
	if mgr != nil || len(files) == 0 {
		return
	}
	cs := certs.FileCerts(files)
	for _, d := range domains {
		if certs.Covering(cs, d) != nil {
			continue
		}
		if _, seen := c.uncovered.LoadOrStore(d, true); !seen {
			log.Warn("edge: a custom domain is served over HTTPS with a certificate that does not cover it; browsers will refuse it",
				"domain", d, "env", env, "certificate", strings.Join(certs.Files(cs)[0].Names, ","),
				"hint", "add the name to the certificate of --edge-tls-cert, or add --acme to obtain one")
		}
	}
}

// forMonitor is list for the monitor: each certificate under its first name.
func (c *certInventory) forMonitor(ctx context.Context) ([]monitor.Certificate, error) {
	infos, err := c.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.Certificate, 0, len(infos))
	for _, in := range infos {
		if in.Pending || in.Unused {
			continue // no certificate yet (its failure is in the listing), or one no longer served nor renewed
		}
		name := in.Subject
		if len(in.Names) > 0 {
			name = in.Names[0]
		}
		out = append(out, monitor.Certificate{Name: name, NotAfter: in.NotAfter})
	}
	return out, nil
}

// certWarning is how long before expiry a certificate alerts (Options.CertWarning).
func (o Options) certWarning() time.Duration {
	if o.CertWarning == 0 {
		return monitor.DefaultCertWarning
	}
	return o.CertWarning
}

// certAlerts is the monitor's certificate listing, nil when the alert is
// turned off (a negative CertWarning).
func (a *App) certAlerts() func(context.Context) ([]monitor.Certificate, error) {
	if a.opts.CertWarning < 0 {
		return nil
	}
	return a.certs.forMonitor
}

// failingOrders lists, for the monitor's certificate-order-failing
// alert, the domains whose ACME orders keep failing, each with its
// environment; none without ACME.
func (c *certInventory) failingOrders(ctx context.Context) ([]monitor.CertOrder, error) {
	c.mu.Lock()
	mgr, domains := c.mgr, c.domains
	c.mu.Unlock()
	if mgr == nil {
		return nil, nil
	}
	fs, err := mgr.FailingOrders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.CertOrder, 0, len(fs))
	for _, f := range fs {
		out = append(out, monitor.CertOrder{Name: f.Name, Environment: domains.environment(f.Name), Since: f.Since,
			Failures: f.Failures, LastError: f.LastError})
	}
	return out, nil
}

// certOrderAlert is how long a certificate order fails before it alerts
// (Options.CertOrderAlert).
func (o Options) certOrderAlert() time.Duration {
	if o.CertOrderAlert == 0 {
		return monitor.DefaultCertOrderAlert
	}
	return o.CertOrderAlert
}

// certOrderAlerts is the monitor's listing of failing certificate orders,
// nil when the alert is turned off (a negative CertOrderAlert).
func (a *App) certOrderAlerts() func(context.Context) ([]monitor.CertOrder, error) {
	if a.opts.CertOrderAlert < 0 {
		return nil
	}
	return a.certs.failingOrders
}

// fileCertificates loads the --edge-tls-cert pairs for the edge's one
// listener and the listing; the edge serves what they hold, following
// the files. None without them.
func (a *App) fileCertificates() ([]*certs.FileCert, error) {
	fcs, err := a.loadEdgeCerts()
	if err != nil || len(fcs) == 0 {
		return nil, err
	}
	a.certs.set(fcs, nil)
	return fcs, nil
}
