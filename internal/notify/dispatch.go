package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema (the delivery log).
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("notify", migrationFiles)
}

// Channel is a named destination and what it subscribes to.
type Channel struct {
	Notifier    Notifier
	Events      []string // event names or "prefix.*" or "*"; empty means DefaultEvents
	MinSeverity int      // deliver alerts of this severity or more urgent (0 is most urgent)
	Secrets     []string // values scrubbed from errors before they are logged or stored
	// Takes, when set, says which messages the channel takes at all (a
	// server's project channel: its project's and the server's own);
	// another is not queued for it, even by name, so the delivery log
	// holds only what was meant for the channel.
	Takes func(Message) bool
}

// DefaultEvents is a channel's subscription when it names none, as
// config.DefaultChannelEvents is for a channel from phoenix.yaml
// (internal/notify/channels' tests hold the two equal).
var DefaultEvents = []string{"release.succeeded", "release.failed", "approval.requested", "deploy.succeeded", "deploy.failed", "deploy.rolled_back", "alert.firing", "alert.resolved", "alert.acknowledged"}

// Wants reports whether the channel subscribes to m.
func (c Channel) Wants(m Message) bool {
	if c.Takes != nil && !c.Takes(m) {
		return false
	}
	events := c.Events
	if len(events) == 0 {
		events = DefaultEvents
	}
	if strings.HasPrefix(m.Event, "alert.") && m.Severity > c.MinSeverity {
		return false
	}
	return slices.ContainsFunc(events, func(e string) bool { return MatchEvent(e, m.Event) })
}

// MatchEvent reports whether pattern ("deploy.*", "*", or a name) matches event.
func MatchEvent(pattern, event string) bool {
	if pattern == "*" || pattern == event {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, ".*")
	return ok && strings.HasPrefix(event, prefix+".")
}

// Backoff is the retry schedule: Initial, doubling, at most Max.
type Backoff struct {
	Initial time.Duration // default 5s
	Max     time.Duration // default 5m
}

// Delay returns the wait after the given number of failed attempts (>= 1).
func (b Backoff) Delay(failures int) time.Duration {
	d := b.Initial
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Options configure a Dispatcher.
type Options struct {
	DB          *store.DB
	Channels    map[string]Channel
	Now         func() time.Time // default time.Now; tests inject a clock
	Logger      *slog.Logger
	Backoff     Backoff
	GiveUpAfter time.Duration // a delivery still failing after this is dropped (default 24h)
	Timeout     time.Duration // per attempt (default 20s)
	Parallel    int           // attempts at once (default 8)
}

// Dispatcher routes messages to channels through the delivery log: each
// (channel, message) is recorded before the first attempt and retried with
// backoff until delivered, refused for good or GiveUpAfter old.
type Dispatcher struct {
	opts Options
	kick chan struct{}
	run  sync.Mutex // one RunDue at a time
	mu   sync.RWMutex
}

// NewDispatcher returns a Dispatcher; the caller applies Migrations first.
func NewDispatcher(o Options) (*Dispatcher, error) {
	if o.DB == nil {
		return nil, errors.New("notify: Options.DB is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff.Initial <= 0 {
		o.Backoff.Initial = 5 * time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = 5 * time.Minute
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	return &Dispatcher{opts: o, kick: make(chan struct{}, 1)}, nil
}

// SetChannels replaces the channels (after a configuration reload).
func (d *Dispatcher) SetChannels(ch map[string]Channel) {
	d.mu.Lock()
	d.opts.Channels = ch
	d.mu.Unlock()
}

func (d *Dispatcher) channel(name string) (Channel, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.opts.Channels[name]
	return c, ok
}

// Publish records m for every channel that wants it, or for the named
// channels only when some are given (a project's own names: see named),
// and wakes the sender. It returns the
// channels m is logged for. A message ID already logged for a channel is
// not queued again (deduplication).
func (d *Dispatcher) Publish(ctx context.Context, m Message, only ...string) ([]string, error) {
	if m.ID == "" {
		m.ID = newID()
	}
	if m.Time.IsZero() {
		m.Time = d.opts.Now().UTC()
	}
	targets := d.targets(m, only)
	if len(targets) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("notify: encode message: %w", err)
	}
	now := d.opts.Now().UnixMilli()
	err = d.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, ch := range targets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notify_deliveries
				(channel, message_id, event, severity, title, payload, next_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel, message_id) DO NOTHING`,
				ch, m.ID, m.Event, m.Severity, m.Title, string(payload), now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notify: record delivery: %w", err)
	}
	d.Kick()
	return targets, nil
}

func (d *Dispatcher) targets(m Message, only []string) []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	if len(only) > 0 {
		for _, name := range only {
			keys := d.named(m, name)
			if len(keys) == 0 {
				d.opts.Logger.Warn("notify: unknown channel", "channel", name, "project", m.Project, "event", m.Event)
			}
			for _, k := range keys {
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
		return out
	}
	for name, c := range d.opts.Channels {
		if c.Wants(m) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// named returns the channels the name means for m. A server holding
// several projects' channels keys each PROJECT/NAME, while a project's
// phoenix.yaml names its own (an alert rule's notify: [teams]): such a
// name means m's project's channel of that name, or, for a message of no
// project (the server's host alerts), that name in every project, as the
// server's own messages go to every project's channels. A name that is a
// key itself means that channel. Called with d.mu held.
func (d *Dispatcher) named(m Message, name string) []string {
	takes := func(key string) bool { c := d.opts.Channels[key]; return c.Takes == nil || c.Takes(m) }
	if _, ok := d.opts.Channels[name]; ok {
		if !takes(name) {
			return nil
		}
		return []string{name}
	}
	if m.Project != "" {
		if _, ok := d.opts.Channels[m.Project+"/"+name]; ok && takes(m.Project+"/"+name) {
			return []string{m.Project + "/" + name}
		}
		return nil
	}
	var out []string
	for key := range d.opts.Channels {
		if _, n, ok := strings.Cut(key, "/"); ok && n == name && takes(key) {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// Kick wakes Run to send what is due now.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
