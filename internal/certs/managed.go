package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// managedWait bounds how long a handshake waits for a managed certificate
// that is being obtained (a DNS-01 order takes seconds to a few minutes):
// inside the edge's handshake timeout (its ReadHeaderTimeout, 10s), so the
// client gets a TLS alert and the log a reason, not a connection closed
// mid-handshake with nothing said.
const managedWait = 8 * time.Second

// managedRetry is how often names whose management could not start (the
// store unreachable, the vault sealed) are tried again.
const managedRetry = time.Minute

// managedSet is the names managed up front through DNS-01.
type managedSet struct {
	set   sync.Mutex // serializes SetManaged and retries; guards unstarted
	mu    sync.Mutex // guards names and cached
	names map[string]bool
	// unstarted are names of names whose ManageAsync failed; a loop
	// (retrying) tries them again every managedRetry.
	unstarted map[string]error
	retrying  bool
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
// up to 30 seconds. Errors name the names that were refused (left out) or
// could not be started (kept: tried again every minute, the error in the
// listing); the others are managed.
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
	for n := range m.managed.unstarted {
		if !want[n] {
			delete(m.managed.unstarted, n)
		}
	}
	for _, n := range added {
		if err := m.start(n); err != nil {
			errs = append(errs, err)
		}
	}
	m.managed.wake() // what was loaded from the store is cached now
	if len(m.managed.unstarted) > 0 && !m.managed.retrying {
		m.managed.retrying = true
		m.bg.Go(func() { m.retryUnstarted(m.opts.managedRetry()) })
	}
	return errors.Join(errs...)
}

// start manages n (m.managed.set held): its certificate is loaded from
// the store now, or, when the store has none, ordered in the background
// (ManageAsync, whose jobs live as long as the Manager). A store that
// cannot be read or written (unreachable, the vault sealed) keeps n in unstarted,
// for retryUnstarted, and in the listing's last error: ManageAsync itself
// would only log it and never try again.
func (m *Manager) start(n string) error {
	// Without the data key certmagic's storage check fails the order
	// once and for all; wait for it here instead.
	_, _, err := m.opts.Keys.Current(m.life)
	_, retried := m.managed.unstarted[n]
	if err != nil {
		err = fmt.Errorf("certificates cannot be stored: %w", err)
	} else {
		if retried {
			// Forgotten before the certificate reaches the cache: a
			// handshake it serves never meets the listing's old error.
			m.failures.forget(n)
		}
		if _, err = m.dns.CacheManagedCertificate(m.life, n); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		delete(m.managed.unstarted, n)
		return m.dns.ManageAsync(m.life, []string{n})
	}
	err = fmt.Errorf("manage %s: %w", n, err)
	if m.managed.unstarted == nil {
		m.managed.unstarted = map[string]error{}
	}
	m.managed.unstarted[n] = err
	m.failures.record(n, err.Error())
	m.opts.Logger.Warn("acme: a managed name could not be loaded; trying again", "name", n, "every", m.opts.managedRetry().String(), "err", err)
	return err
}

// retryUnstarted starts the unstarted names every interval until none is
// left or the Manager is closed.
func (m *Manager) retryUnstarted(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.life.Done():
			return
		case <-t.C:
		}
		m.managed.set.Lock()
		for n := range m.managed.unstarted {
			_ = m.start(n)
		}
		done := len(m.managed.unstarted) == 0
		if done {
			m.managed.retrying = false
		}
		m.managed.set.Unlock()
		m.managed.wake()
		if done {
			return
		}
	}
}

// Managed returns the names SetManaged manages, sorted.
func (m *Manager) Managed() []string { return m.managed.list() }

// configFor is the cache's GetConfigForCert: a certificate of a managed
// name is renewed through DNS-01, any other by the on-demand issuer on
// certmagic's schedule (m.renew: certmagic's maintenance skips a
// certificate whose configuration is on demand, leaving it to the next
// handshake).
func (m *Manager) configFor(c certmagic.Certificate) (*certmagic.Config, error) {
	if m.dns != nil && m.managed.has(c.Names) {
		return m.dns, nil
	}
	return m.renew, nil
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
