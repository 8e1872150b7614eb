package edge

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Hosts maps host names to environments, and each environment to the Site it
// serves now. Reads (every request) are lock-free: the table is copy-on-write
// and each environment's release is an atomic pointer, so SetSite swaps a
// release under load without dropping or mixing requests. Writers serialize
// on a mutex. The zero value is not usable; call NewHosts.
type Hosts struct {
	mu    sync.Mutex // serializes writers
	table atomic.Pointer[hostTable]
}

type hostTable struct {
	byHost   map[string]*Env
	byName   map[string]*Env
	fallback *Env // serves hosts not in byHost; nil answers 404
}

// Env is one environment: a name, the release it serves and its own
// allow-list and telemetry. Obtain it from Hosts; it stays valid while the
// environment exists.
type Env struct {
	name   string
	cur    atomic.Pointer[release]
	allow  atomic.Pointer[[]netip.Prefix] // nil: everyone
	policy atomic.Pointer[envPolicy]      // nil: none (policy.go)
	tel    telemetry
}

// release is a Site as served by one environment: the swa.FileSystem view
// and the small-body cache budget.
type release struct {
	site        Site
	activatedAt time.Time
	cacheLeft   atomic.Int64 // bytes of small bodies this release may still cache
	fds         openFiles    // open blob files for sendfile, closed once swapped out
}

// Exists implements swa.FileSystem.
func (r *release) Exists(p string) bool { return r.site.Lookup(p) != nil }

// ErrNoEnv is returned for an environment name Hosts does not know.
var ErrNoEnv = errors.New("edge: no such environment")

// NewHosts returns an empty table.
func NewHosts() *Hosts {
	h := &Hosts{}
	h.table.Store(&hostTable{byHost: map[string]*Env{}, byName: map[string]*Env{}})
	return h
}

// DefaultHost returns the host name an environment answers on by default:
// "<env>.<project>.localhost".
func DefaultHost(env, project string) string {
	return SitesHost(env, project, "localhost")
}

// SitesHost returns an environment's host name under a sites domain:
// "<env>.<project>.<domain>".
func SitesHost(env, project, domain string) string {
	return strings.ToLower(env + "." + project + "." + domain)
}

// update copies the table, lets fn change the copy and publishes it.
func (h *Hosts) update(fn func(t *hostTable) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.table.Load()
	t := &hostTable{byHost: maps.Clone(old.byHost), byName: maps.Clone(old.byName), fallback: old.fallback}
	if err := fn(t); err != nil {
		return err
	}
	h.table.Store(t)
	return nil
}

// ensure returns the environment name, creating it in t when missing.
func (t *hostTable) ensure(name string) *Env {
	e := t.byName[name]
	if e == nil {
		e = &Env{name: name}
		t.byName[name] = e
	}
	return e
}

// SetSite activates s for environment env (creating the environment when
// new) and returns the Site it replaced, or nil. A request already running
// finishes on the release it started with; every later request sees s.
// A nil s deactivates: the environment then answers 503.
func (h *Hosts) SetSite(env string, s Site) (previous Site) {
	var e *Env
	_ = h.update(func(t *hostTable) error { e = t.ensure(env); return nil })
	var next *release
	if s != nil {
		next = &release{site: s, activatedAt: time.Now()}
		next.cacheLeft.Store(smallCacheBudget)
	}
	if old := e.cur.Swap(next); old != nil {
		old.fds.retire()
		return old.site
	}
	return nil
}

// AddHost routes host (case-insensitive, without port) to env, creating the
// environment when new. A host routes to one environment at a time.
func (h *Hosts) AddHost(host, env string) error {
	host = normalizeHost(host)
	if host == "" {
		return fmt.Errorf("edge: add host for %q: empty host name", env)
	}
	return h.update(func(t *hostTable) error { t.byHost[host] = t.ensure(env); return nil })
}

// SetHosts routes exactly hosts to env, in one step: env's other host
// names stop routing to it, and a name routed to another environment
// moves to env. It creates env when new.
func (h *Hosts) SetHosts(env string, hosts []string) error {
	want := make(map[string]bool, len(hosts))
	for _, host := range hosts {
		n := normalizeHost(host)
		if n == "" {
			return fmt.Errorf("edge: set hosts of %q: empty host name", env)
		}
		want[n] = true
	}
	return h.update(func(t *hostTable) error {
		e := t.ensure(env)
		for host, he := range t.byHost {
			if he == e && !want[host] {
				delete(t.byHost, host)
			}
		}
		for host := range want {
			t.byHost[host] = e
		}
		return nil
	})
}

// RemoveHost stops routing host.
func (h *Hosts) RemoveHost(host string) {
	host = normalizeHost(host)
	_ = h.update(func(t *hostTable) error { delete(t.byHost, host); return nil })
}

// SetFallback makes env answer every host not in the table (as `phoenix
// serve` does); "" removes the fallback so unknown hosts get 404.
func (h *Hosts) SetFallback(env string) {
	_ = h.update(func(t *hostTable) error {
		t.fallback = nil
		if env != "" {
			t.fallback = t.ensure(env)
		}
		return nil
	})
}

// RemoveEnv deletes an environment with its host names and returns the Site
// it served, or nil.
func (h *Hosts) RemoveEnv(env string) (previous Site) {
	var e *Env
	_ = h.update(func(t *hostTable) error {
		e = t.byName[env]
		if e == nil {
			return ErrNoEnv
		}
		delete(t.byName, env)
		for host, he := range t.byHost {
			if he == e {
				delete(t.byHost, host)
			}
		}
		if t.fallback == e {
			t.fallback = nil
		}
		return nil
	})
	if e == nil {
		return nil
	}
	if old := e.cur.Swap(nil); old != nil {
		old.fds.retire()
		return old.site
	}
	return nil
}

// SetAllowedIPs restricts env to clients whose address is in one of the
// prefixes (others get 403); an empty list allows everyone.
func (h *Hosts) SetAllowedIPs(env string, prefixes []netip.Prefix) error {
	e := h.Env(env)
	if e == nil {
		return fmt.Errorf("%w: %q", ErrNoEnv, env)
	}
	if len(prefixes) == 0 {
		e.allow.Store(nil)
		return nil
	}
	p := slices.Clone(prefixes)
	for i := range p {
		p[i] = p[i].Masked()
	}
	e.allow.Store(&p)
	return nil
}

// Env returns the environment named name, or nil.
func (h *Hosts) Env(name string) *Env { return h.table.Load().byName[name] }

// Envs returns the environment names, sorted.
func (h *Hosts) Envs() []string {
	return slices.Sorted(maps.Keys(h.table.Load().byName))
}

// HostsOf returns the host names routed to env, sorted.
func (h *Hosts) HostsOf(env string) []string {
	var out []string
	for host, e := range h.table.Load().byHost {
		if e.name == env {
			out = append(out, host)
		}
	}
	slices.Sort(out)
	return out
}

// Routes reports whether host (a Host header value) is routed to an
// environment by name, not by the fallback.
func (h *Hosts) Routes(host string) bool {
	return h.table.Load().byHost[normalizeHost(host)] != nil
}

// lookup returns the environment for host, a Host header value as
// normalizeHost leaves it.
func (h *Hosts) lookup(host string) *Env {
	t := h.table.Load()
	if e := t.byHost[host]; e != nil {
		return e
	}
	return t.fallback
}

// Name returns the environment's name.
func (e *Env) Name() string { return e.name }

// Site returns the Site served now, or nil.
func (e *Env) Site() Site {
	if r := e.cur.Load(); r != nil {
		return r.site
	}
	return nil
}

// allowed reports whether the allow-list admits ip.
func (e *Env) allowed(ip netip.Addr) bool {
	p := e.allow.Load()
	if p == nil {
		return true
	}
	ip = ip.Unmap()
	for _, pre := range *p {
		if pre.Contains(ip) {
			return true
		}
	}
	return false
}

// normalizeHost lower-cases a Host header and strips its port and a
// trailing dot. It does not allocate for an already lower-case host.
func normalizeHost(h string) string {
	if strings.HasPrefix(h, "[") { // [::1]:8080
		if j := strings.IndexByte(h, ']'); j > 0 {
			h = h[1:j]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 && strings.LastIndexByte(h, ':') == i {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}
