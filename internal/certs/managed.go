package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// managedWait bounds how long a handshake waits for a managed certificate
// that is being obtained (a DNS-01 order takes seconds to a few minutes).
const managedWait = 30 * time.Second

// managedSet is the names managed up front through DNS-01.
type managedSet struct {
	set   sync.Mutex // serializes SetManaged
	mu    sync.Mutex // guards names and cached
	names map[string]bool
	// cached is closed (and replaced) whenever certmagic caches a managed
	// certificate, waking handshakes waiting for one.
	cached chan struct{}
}

// covering returns the managed name serving name: name itself, or the
// managed wildcard of its parent (*.example.com for a.example.com); "".
func (s *managedSet) covering(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] {
		return name
	}
	if w := WildcardOf(name); w != "" && s.names[w] {
		return w
	}
	return ""
}

// has reports whether any of names is managed.
func (s *managedSet) has(names []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if s.names[NormalizeName(n)] {
			return true
		}
	}
	return false
}

func (s *managedSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.names))
}

// waiter returns a channel closed at the next wake.
func (s *managedSet) waiter() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached == nil {
		s.cached = make(chan struct{})
	}
	return s.cached
}

func (s *managedSet) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil {
		close(s.cached)
		s.cached = nil
	}
}

// SetManaged makes names (normalized, each accepted by CheckName,
// wildcards among them) the complete set of names whose certificates are
// obtained up front through DNS-01 and renewed, one certificate per name.
// It can be called again at any time with the new full set; it is
// idempotent. A new name is loaded from the store, or ordered in the
// background when the store has none; a dropped name stops being renewed
// and served (its certificate stays in the store until it expires, and
// serves again if the name comes back). Handshakes for a managed name, or
// for a name its managed wildcard covers, are served by it and never
// order a certificate of their own; while it is being obtained they wait
// up to 30 seconds. Errors name the names that were refused or could not
// be started; the others are managed.
func (m *Manager) SetManaged(ctx context.Context, names []string) error {
	if m.dns == nil {
		return errors.New("certs: SetManaged needs Options.DNS01 (the DNS-01 challenge)")
	}
	want := map[string]bool{}
	var errs []error
	for _, n := range names {
		n = NormalizeName(n)
		if err := CheckName(n); err != nil {
			errs = append(errs, err)
			continue
		}
		want[n] = true
	}
	m.managed.set.Lock()
	defer m.managed.set.Unlock()
	m.managed.mu.Lock()
	old := m.managed.names
	m.managed.mu.Unlock()
	var dropped []certmagic.SubjectIssuer
	for n := range old {
		if !want[n] {
			dropped = append(dropped, certmagic.SubjectIssuer{Subject: n})
		}
	}
	var added []string
	for n := range want {
		if !old[n] {
			added = append(added, n)
		}
	}
	m.cache.RemoveManaged(dropped)
	m.managed.mu.Lock()
	m.managed.names = want // before ManageAsync caches: configFor must see them
	m.managed.mu.Unlock()
	for _, n := range added {
		// ManageAsync loads from the store now and orders in the
		// background; its jobs live as long as the Manager, not ctx.
		if err := m.dns.ManageAsync(m.life, []string{n}); err != nil {
			errs = append(errs, fmt.Errorf("manage %s: %w", n, err))
			m.managed.mu.Lock()
			delete(m.managed.names, n)
			m.managed.mu.Unlock()
		}
	}
	m.managed.wake() // what was loaded from the store is cached now
	return errors.Join(errs...)
}

// Managed returns the names SetManaged manages, sorted.
func (m *Manager) Managed() []string { return m.managed.list() }

// configFor is the cache's GetConfigForCert: a certificate of a managed
// name is renewed through DNS-01, any other on demand.
func (m *Manager) configFor(c certmagic.Certificate) (*certmagic.Config, error) {
	if m.dns != nil && m.managed.has(c.Names) {
		return m.dns, nil
	}
	return m.cfg, nil
}

// serveManaged answers a handshake with the certificate of the managed
// name by, waiting while it is being obtained, up to managedWait or the
// handshake's end; it never orders one for the handshake's name.
func (m *Manager) serveManaged(hello *tls.ClientHelloInfo, by string) (*tls.Certificate, error) {
	ctx := hello.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, managedWait)
	defer cancel()
	for {
		next := m.managed.waiter()
		c, err := m.dns.GetCertificate(hello)
		if err == nil {
			return c, nil
		}
		select {
		case <-next:
		case <-m.life.Done():
			return nil, errors.New("certs: the manager is closed")
		case <-ctx.Done():
			msg, _ := m.failures.of([]string{by})
			if msg == "" {
				msg = "not obtained yet"
			}
			return nil, fmt.Errorf("no certificate yet for %s (managed through DNS-01): %s", by, msg)
		}
	}
}
