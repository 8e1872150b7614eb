package certs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// orderWait bounds how long a handshake waits for the first attempt of
// its name's order (a CA answers within seconds; a failing attempt,
// trying each challenge type, may take longer).
const orderWait = time.Minute

// orders are the names ordered on demand, each in the background: the
// first handshake for a name with no certificate starts its order, a
// failed attempt is retried on certmagic's schedule (1 minute, then
// growing intervals up to 6 hours, for 30 days, or until Allow refuses the
// name as NotServed), and no handshake places
// an order of its own. certmagic alone would order inside the handshake,
// holding it for up to 3 minutes, and start over at the next one.
type orders struct {
	mu   sync.Mutex
	jobs map[string]*order
}

// order is one name's order in the background.
type order struct {
	err     error         // the last attempt's failure; nil until one fails
	done    bool          // it ended: obtained (err nil), or given up
	changed chan struct{} // closed, and replaced, when an attempt fails or it ends
}

// join returns name's order, starting one (fresh) when none runs.
func (s *orders) join(name string) (o *order, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.jobs[name]; o != nil {
		return o, false
	}
	if s.jobs == nil {
		s.jobs = map[string]*order{}
	}
	o = &order{changed: make(chan struct{})}
	s.jobs[name] = o
	return o, true
}

// has reports whether name is being ordered.
func (s *orders) has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[name] != nil
}

// names returns the names being ordered, sorted.
func (s *orders) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.jobs))
}

// failing reports whether name is being ordered and its last attempt
// failed.
func (s *orders) failing(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.jobs[name]
	return o != nil && o.err != nil
}

// failed records a failed attempt of name's order.
func (s *orders) failed(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.jobs[name]; o != nil {
		o.err = err
		close(o.changed)
		o.changed = make(chan struct{})
	}
}

// end records that o, name's order, ended with err.
func (s *orders) end(name string, o *order, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[name] == o {
		delete(s.jobs, name)
	}
	o.err, o.done = err, true
	close(o.changed)
}

// state returns what o's handshakes need to know.
func (s *orders) state(o *order) (done bool, changed <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return o.done, o.changed, o.err
}

// await waits for o's first attempt (up to orderWait or ctx's end): nil
// once it obtained the certificate; an error naming the last failure when
// an attempt failed, at once while a failed order waits for its retry.
func (s *orders) await(ctx context.Context, name string, o *order) error {
	done, changed, err := s.state(o)
	if err == nil && !done {
		t := time.NewTimer(orderWait)
		select {
		case <-changed:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		done, _, err = s.state(o)
	}
	switch {
	case err != nil && done:
		return fmt.Errorf("no certificate for %s: its order failed: %w", name, err)
	case err != nil:
		return fmt.Errorf("no certificate for %s yet: its last order failed and is retried in the background: %w", name, err)
	case !done:
		return fmt.Errorf("no certificate for %s yet: its order is in progress", name)
	}
	return nil
}

// Failing reports whether name has no certificate because its order
// failed and waits for its retry (on demand, or of the managed name
// covering it, a wildcard through DNS-01 say): handshakes for it fail, so
// the edge's plain listener had better serve it than redirect to HTTPS.
// Memory lookups only.
func (m *Manager) Failing(name string) bool {
	name = NormalizeName(name)
	if m.orders.failing(name) {
		return true
	}
	by := m.managed.covering(name)
	if by == "" {
		return false
	}
	msg, _ := m.failures.of([]string{by})
	return msg != "" && len(m.cache.AllMatchingCertificates(name)) == 0
}

// ordered is the on-demand decision's last step, for a name Allow
// accepted: nil when its certificate is in the store (certmagic loads it),
// else what its order in the background says (orders.await).
func (m *Manager) ordered(ctx context.Context, name string) error {
	if m.stored(ctx, name) {
		return nil
	}
	o, fresh := m.orders.join(name)
	if fresh {
		m.bg.Go(func() {
			err := m.cfg.ObtainCertAsync(m.life, name)
			if err == nil { // renewed on schedule from now on, visited again or not
				if err := m.manageOne(m.life, name); err != nil {
					m.opts.Logger.Warn("acme: a certificate obtained is left to the next handshake", "name", name, "err", err)
				}
			}
			m.orders.end(name, o, err)
		})
	}
	return m.orders.await(ctx, name, o)
}

// stored reports whether the store holds name's certificate, key and
// metadata from the on-demand issuer.
func (m *Manager) stored(ctx context.Context, name string) bool {
	k := m.issuer.IssuerKey()
	for _, key := range []string{certmagic.StorageKeys.SiteCert(k, name), certmagic.StorageKeys.SitePrivateKey(k, name),
		certmagic.StorageKeys.SiteMeta(k, name)} {
		if !m.cfg.Storage.Exists(ctx, key) {
			return false
		}
	}
	return true
}

// orderEvent follows certmagic's events for the names being ordered on
// demand and the renewals of names not managed up front: a failed attempt
// of an order is recorded for its handshakes, and an attempt for a name
// Allow no longer accepts ends (stillServed).
func (m *Manager) orderEvent(ctx context.Context, event string, data map[string]any) error {
	id, _ := data["identifier"].(string)
	id = NormalizeName(id)
	if id == "" {
		return nil
	}
	renewal, _ := data["renewal"].(bool)
	switch {
	case event == "cert_obtaining" && (m.orders.has(id) || renewal && m.managed.covering(id) == ""):
		return m.stillServed(ctx, id, renewal)
	case event == "cert_failed" && !renewal && m.orders.has(id):
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New(fmt.Sprint(data["error"]))
		}
		m.orders.failed(id, err)
	}
	return nil
}

// stillServed ends an attempt for a name Allow refuses as NotServed (a
// domain taken off): an order on demand ends rather than being retried
// for 30 days, and a renewal's certificate leaves the cache, no longer
// renewed nor served. A failure to find out lets the attempt go on.
func (m *Manager) stillServed(ctx context.Context, id string, renewal bool) error {
	err := m.opts.Allow(ctx, id)
	if !IsNotServed(err) {
		return nil
	}
	if renewal {
		m.cache.RemoveManaged([]certmagic.SubjectIssuer{{Subject: id}})
	}
	return certmagic.ErrNoRetry{Err: fmt.Errorf("%s is no longer served: %w", id, err)}
}
