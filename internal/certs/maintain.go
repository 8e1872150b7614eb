package certs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/phoenixvc/phoenix/internal/tick"
)

// Storage cleaning (clean): how often it is considered, how often it runs
// at most (certmagic's own marker in the store, shared by every server on
// the database), and how long an expired certificate stays listed first.
const (
	cleanCheck     = time.Hour
	cleanInterval  = 24 * time.Hour
	expiredKeepFor = 14 * 24 * time.Hour
)

// Maintain starts the Manager's upkeep in the background, until Close:
// the stored certificate of every name Allow accepts is loaded and renewed
// on schedule from then on, without waiting for a handshake (manageStored,
// tried again every ManagedRetry while the store cannot be read: a sealed
// vault); then the store is cleaned, at once and every hour, whenever no
// server on the database cleaned it for a day (clean). Call it once, after
// SetManaged, whose names it leaves to their own configuration.
func (m *Manager) Maintain() {
	m.bg.Go(func() {
		m.untilDone(m.manageStored)
		m.clean(m.life)
		tick.Every(m.life, cleanCheck, m.clean)
	})
}

// untilDone calls fn until it succeeds or the Manager is closed, every
// ManagedRetry, logging its failures.
func (m *Manager) untilDone(fn func(context.Context) error) {
	t := time.NewTicker(m.opts.managedRetry())
	defer t.Stop()
	for {
		err := fn(m.life)
		if err == nil || m.life.Err() != nil {
			return
		}
		m.opts.Logger.Warn("acme: stored certificates could not be loaded; trying again", "every", m.opts.managedRetry().String(), "err", err)
		select {
		case <-m.life.Done():
			return
		case <-t.C:
		}
	}
}

// manageStored hands certmagic's maintenance the certificates the
// on-demand issuer stored for the names Allow accepts (not wildcards, nor
// names a managed name covers): each is loaded into the cache now, and
// certmagic's maintenance (every 10 minutes) renews it when due, through
// m.renew (configFor). certmagic alone loads an on-demand certificate at
// the first handshake for its name after a start, and renews it only at
// handshakes, so a domain nobody visited reached its expiry unrenewed. A
// name Allow refuses as NotServed is left out (listed Unused); other
// failures are returned, the other names loaded.
func (m *Manager) manageStored(ctx context.Context) error {
	if _, _, err := m.opts.Keys.Current(ctx); err != nil {
		return fmt.Errorf("certificates cannot be read: %w", err)
	}
	stored, err := m.storedCerts(ctx, certmagic.StorageKeys.CertsPrefix(m.issuer.IssuerKey()))
	if err != nil {
		return err
	}
	var errs []error
	for _, sc := range stored {
		ns := Describe(sc.leaf, SourceACME).Names
		if len(ns) != 1 { // certmagic stores one name per certificate
			continue
		}
		if err := m.manageOne(ctx, NormalizeName(ns[0])); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// manageOne loads the stored certificate of name, an on-demand one that
// Allow accepts, into the cache (once), for certmagic's maintenance.
func (m *Manager) manageOne(ctx context.Context, name string) error {
	if IsWildcard(name) || m.managed.covering(name) != "" || len(m.cache.AllMatchingCertificates(name)) > 0 {
		return nil
	}
	switch err := m.opts.Allow(ctx, name); {
	case IsNotServed(err):
		return nil
	case err != nil:
		return fmt.Errorf("is %s still served: %w", name, err)
	}
	if _, err := m.renew.CacheManagedCertificate(ctx, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("load the certificate of %s: %w", name, err)
	}
	return nil
}

// clean runs certmagic's storage cleaning unless a server on the database
// did within a day (certmagic keeps the marker, and a lock, in the store):
// certificates expired for expiredKeepFor, with their keys, and stale
// OCSP staples are deleted. It also removes the locks whose holders
// stopped refreshing them (a server that died holding one), which
// certmagic leaves. Failures are logged; the next check tries again.
func (m *Manager) clean(ctx context.Context) {
	s, ok := m.cfg.Storage.(*Storage)
	if !ok {
		return
	}
	err := certmagic.CleanStorage(ctx, s, certmagic.CleanStorageOptions{Logger: m.cfg.Logger, Interval: cleanInterval,
		OCSPStaples: true, ExpiredCerts: true, ExpiredCertGracePeriod: expiredKeepFor})
	if err != nil && ctx.Err() == nil {
		m.opts.Logger.Warn("acme: cleaning the certificate store", "err", err)
	}
	if err := s.purgeStaleLocks(ctx); err != nil && ctx.Err() == nil {
		m.opts.Logger.Warn("acme: removing stale certificate locks", "err", err)
	}
}
