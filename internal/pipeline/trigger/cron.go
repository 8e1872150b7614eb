// Package trigger starts workflows: cron schedules (five fields, or six
// with seconds, in a time zone) whose ticks missed while the server was
// down run once, not once per missed tick; authenticated webhooks (HMAC-
// SHA256 signature or bearer token; GitHub push and tag payloads
// understood); and an in-process bus of Phoenix events (deploy.succeeded,
// deploy.failed, alert.firing, alert.resolved, backup.completed, ...).
package trigger

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // schedules work without system zoneinfo

	"github.com/robfig/cron/v3"
)

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a cron expression of five fields (minute hour
// day-of-month month day-of-week), six with leading seconds, or a
// descriptor (@hourly, @daily, @every 15m), in time zone tz ("" is UTC).
func ParseCron(expr, tz string) (cron.Schedule, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "CRON_TZ=") || strings.HasPrefix(e, "TZ=") {
		return nil, fmt.Errorf("cron %q: put the time zone in tz, not in the expression", expr)
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("cron time zone %q: %w (use an IANA name such as Africa/Johannesburg)", tz, err)
		}
		loc = l
	}
	s, err := cronParser.Parse("CRON_TZ=" + loc.String() + " " + e)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w (five fields: minute hour day-of-month month day-of-week, e.g. \"*/2 * * * *\")", expr, err)
	}
	return s, nil
}

// TickStore keeps the time of each schedule's last tick, so missed ticks
// are noticed after a restart.
type TickStore interface {
	LastTick(ctx context.Context, key string) (time.Time, bool, error)
	SetLastTick(ctx context.Context, key string, t time.Time) error
}

// Clock is the time source of the scheduler (a fake in tests).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Schedule is one cron trigger.
type Schedule struct {
	Key  string // unique and stable, e.g. "example/backup-check#0"
	Expr string
	TZ   string
	Fire func(ctx context.Context, at time.Time) // starts the workflow; must not block long
}

// Scheduler fires schedules. The first time a schedule is seen its
// clock starts now; afterwards, when the server was down over one or more
// ticks, the schedule fires once on start (catch-up) and then on its
// next regular tick.
type Scheduler struct {
	store TickStore
	clock Clock

	mu     sync.Mutex
	scheds map[string]*entry
	wake   chan struct{}
}

type entry struct {
	s    Schedule
	cron cron.Schedule
	last time.Time
}

// NewScheduler returns a scheduler persisting ticks in store; clock may be
// nil for the real clock.
func NewScheduler(store TickStore, clock Clock) *Scheduler {
	if clock == nil {
		clock = realClock{}
	}
	return &Scheduler{store: store, clock: clock, scheds: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// Add registers (or replaces) a schedule.
func (sc *Scheduler) Add(ctx context.Context, s Schedule) error {
	c, err := ParseCron(s.Expr, s.TZ)
	if err != nil {
		return err
	}
	last, ok, err := sc.store.LastTick(ctx, s.Key)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", s.Key, err)
	}
	if !ok {
		last = sc.clock.Now()
		if err := sc.store.SetLastTick(ctx, s.Key, last); err != nil {
			return fmt.Errorf("schedule %s: %w", s.Key, err)
		}
	}
	sc.mu.Lock()
	sc.scheds[s.Key] = &entry{s: s, cron: c, last: last}
	sc.mu.Unlock()
	sc.poke()
	return nil
}

// Remove drops every schedule whose key starts with prefix.
func (sc *Scheduler) Remove(prefix string) {
	sc.mu.Lock()
	for k := range sc.scheds {
		if strings.HasPrefix(k, prefix) {
			delete(sc.scheds, k)
		}
	}
	sc.mu.Unlock()
	sc.poke()
}

func (sc *Scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// Run fires due schedules until ctx ends.
func (sc *Scheduler) Run(ctx context.Context) {
	for {
		next := sc.RunDue(ctx)
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(sc.clock.Now()), time.Millisecond)
		}
		timer := sc.clock.After(wait)
		if !next.IsZero() && !next.After(sc.clock.Now()) {
			continue // the clock passed next while the wait was set up (a test's clock set meanwhile)
		}
		select {
		case <-ctx.Done():
			return
		case <-sc.wake:
		case <-timer:
		}
	}
}

// RunDue fires every schedule with a tick due (once, however many ticks
// were missed), records the tick, and returns the earliest next tick.
func (sc *Scheduler) RunDue(ctx context.Context) time.Time {
	now := sc.clock.Now()
	sc.mu.Lock()
	var due []*entry
	var next time.Time
	for _, e := range sc.scheds {
		n := e.cron.Next(e.last)
		if !n.After(now) {
			due = append(due, e)
			e.last = now
			n = e.cron.Next(now)
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	sc.mu.Unlock()
	for _, e := range due {
		sc.store.SetLastTick(ctx, e.s.Key, now)
		e.s.Fire(ctx, now)
	}
	return next
}
