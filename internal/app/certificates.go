package app

import (
	"context"
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
	// managed is what the Manager manages up front through DNS-01.
	managed managedNames
}

func (c *certInventory) set(files []*certs.FileCert, mgr *certs.Manager) {
	c.mu.Lock()
	c.files, c.mgr = files, mgr
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

// fileCertificate loads --edge-tls-cert for the edge's one listener and
// the listing; the edge serves what it holds, following the files.
func (a *App) fileCertificate() (*certs.FileCert, error) {
	if a.opts.EdgeTLSCert == "" {
		return nil, nil
	}
	fc, err := a.loadEdgeCert()
	if err != nil {
		return nil, err
	}
	a.certs.set([]*certs.FileCert{fc}, nil)
	return fc, nil
}
