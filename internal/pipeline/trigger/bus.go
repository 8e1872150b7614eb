package trigger

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Event names published by Phoenix (the list is open: any dotted name works).
const (
	DeploySucceeded = "deploy.succeeded"
	DeployFailed    = "deploy.failed"
	AlertFiring     = "alert.firing"
	AlertResolved   = "alert.resolved"
	BackupCompleted = "backup.completed"
)

// Event is something that happened in Phoenix.
type Event struct {
	Name        string            `json:"name"`
	Project     string            `json:"project,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Data        map[string]string `json:"data,omitempty"`
	At          time.Time         `json:"at"`
}

// Match reports whether pattern ("deploy.succeeded", "deploy.*", "*")
// matches the event name.
func Match(pattern, name string) bool {
	if pattern == "*" || pattern == name {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(name, prefix+".")
	}
	return false
}

// Bus delivers events to subscribers. Handlers run on their own goroutine
// so a slow one never blocks the publisher.
type Bus struct {
	mu   sync.RWMutex
	next int
	subs map[int]subscription
	wg   sync.WaitGroup
}

type subscription struct {
	pattern, project, env string
	fn                    func(context.Context, Event)
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[int]subscription{}} }

// Subscribe calls fn for every event matching pattern, from project (""
// for any) and environment ("" for any). The returned func unsubscribes.
func (b *Bus) Subscribe(pattern, project, env string, fn func(context.Context, Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = subscription{pattern, project, env, fn}
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

// Publish delivers e to every matching subscriber.
func (b *Bus) Publish(ctx context.Context, e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	b.mu.RLock()
	var fns []func(context.Context, Event)
	for _, s := range b.subs {
		if Match(s.pattern, e.Name) && (s.project == "" || s.project == e.Project) && (s.env == "" || s.env == e.Environment) {
			fns = append(fns, s.fn)
		}
	}
	b.mu.RUnlock()
	ctx = context.WithoutCancel(ctx)
	for _, fn := range fns {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			fn(ctx, e)
		}()
	}
}

// Wait blocks until every handler started so far has returned.
func (b *Bus) Wait() { b.wg.Wait() }
