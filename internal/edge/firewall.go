package edge

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// FirewallMatch counts the requests one firewall rule matched in one
// environment, by what the edge did: "block" (answered 403), "detect"
// (served; the firewall only reports), "log" (served: a log rule of a
// blocking firewall) or "allow" (served: an allow rule skipped the later
// checks).
type FirewallMatch struct {
	Rule   string
	Action string
	Count  uint64
}

// maxFirewallRules bounds the distinct rule labels counted per
// environment; later ones are counted under "other", so a firewall that
// makes up ids cannot grow /metrics without end.
const maxFirewallRules = 512

type wafKey struct {
	rule   string
	action string // block, detect, log or allow (matchAction)
}

// wafCounts are an environment's firewall matches. Matches are rare next
// to requests, so a mutex is fine here.
type wafCounts struct {
	mu sync.Mutex
	m  map[wafKey]uint64
}

func (c *wafCounts) add(rule, action string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[wafKey]uint64{}
	}
	k := wafKey{rule, action}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxFirewallRules {
		k.rule = "other"
	}
	c.m[k]++
}

// snapshot returns the counts sorted by rule, then action; nil for none.
func (c *wafCounts) snapshot() []FirewallMatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 {
		return nil
	}
	out := make([]FirewallMatch, 0, len(c.m))
	for k, n := range c.m {
		out = append(out, FirewallMatch{Rule: k.rule, Action: k.action, Count: n})
	}
	slices.SortFunc(out, func(a, b FirewallMatch) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Action, b.Action))
	})
	return out
}

// Blocking is implemented by a Firewall that knows its mode: a match it
// does not block while Blocking is true was only to be logged (a custom
// rule with action log), not a detect-mode finding.
type Blocking interface{ Blocking() bool }

// Allowing is implemented by a Firewall with rules that let a request
// through past its later checks (a custom rule with action allow): Inspect
// reports such a match as its rule, not blocking, and Allows(rule) is
// true. The edge counts it with action="allow" and does not log it.
type Allowing interface{ Allows(rule string) bool }

// matchAction labels a match: block when it was refused, allow when an
// allow rule let it through, log when a blocking firewall let it through,
// else detect.
func matchAction(fw Firewall, rule string, block bool) string {
	switch {
	case block:
		return "block"
	case allows(fw, rule):
		return "allow"
	case isBlocking(fw):
		return "log"
	}
	return "detect"
}

func allows(fw Firewall, rule string) bool {
	a, ok := fw.(Allowing)
	return ok && a.Allows(rule)
}

func isBlocking(fw Firewall) bool {
	b, ok := fw.(Blocking)
	return ok && b.Blocking()
}

// ruleLabel keeps a rule id to letters, digits and ._:- (others become
// '_'), at most 64 bytes: safe in a log line and a metric label whatever
// the Firewall returns.
func ruleLabel(rule string) string {
	if len(rule) > 64 {
		rule = rule[:64]
	}
	ok := func(c rune) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._:-", c)
	}
	if strings.IndexFunc(rule, func(c rune) bool { return !ok(c) }) < 0 {
		return rule
	}
	return strings.Map(func(c rune) rune {
		if ok(c) {
			return c
		}
		return '_'
	}, rule)
}

// matchLog writes firewall matches to the log at most a few lines a
// second; the lines it drops are counted in the next one it writes.
type matchLog struct {
	lim     *rate.Limiter
	dropped atomic.Uint64
}

// matchLogRate and matchLogBurst bound the firewall's log lines.
const (
	matchLogRate  = 5
	matchLogBurst = 10
)

func newMatchLog() *matchLog { return &matchLog{lim: rate.NewLimiter(matchLogRate, matchLogBurst)} }

// write logs one match: never headers, cookies or the query, and the path
// clipped.
func (l *matchLog) write(log *slog.Logger, now time.Time, env, rule, action string, client netip.Addr, r *http.Request) {
	if !l.lim.AllowN(now, 1) {
		l.dropped.Add(1)
		return
	}
	p := r.URL.Path
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	log.Warn("edge: firewall match", "env", env, "rule", rule, "action", action, "client", client.String(),
		"method", r.Method, "path", p, "suppressed", l.dropped.Swap(0))
}

// inspect runs the environment's firewall; it reports whether the request
// was blocked (and answered).
func (h *Handler) inspect(w http.ResponseWriter, r *http.Request, env *Env, fw Firewall, ip netip.Addr) (int, bool) {
	rule, block := fw.Inspect(r, ip)
	if rule == "" {
		return 0, false
	}
	act := matchAction(fw, rule, block)
	rule = ruleLabel(rule)
	env.tel.waf.add(rule, act)
	if act != "allow" { // the project's own exemption: counted, not a finding to log
		h.wafLog.write(h.opts.Logger, h.opts.Now(), env.name, rule, act, ip, r)
	}
	if !block {
		return 0, false
	}
	return plain(w, http.StatusForbidden, "forbidden by firewall"), true
}

// writeFirewallMetrics writes phoenix_edge_waf_matches_total.
func writeFirewallMetrics(w io.Writer, snaps []EnvStats) {
	family(w, "phoenix_edge_waf_matches_total", "counter", "Requests a firewall rule matched, by what the edge did (block: 403; detect, log: served and reported; allow: served past the later rules).")
	for _, s := range snaps {
		for _, m := range s.Firewall {
			fmt.Fprintf(w, "phoenix_edge_waf_matches_total{env=%q,rule=%q,action=%q} %d\n", envLabel(s.Env), m.Rule, m.Action, m.Count)
		}
	}
}
