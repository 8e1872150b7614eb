package monitor

import (
	"container/heap"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/phoenixvc/phoenix/internal/config"
)

// entry is one scheduled target.
type entry struct {
	t       Target
	sched   cron.Schedule // nil: every t.Interval
	next    time.Time     // when it runs, jitter included
	base    time.Time     // the schedule's own time, without jitter
	index   int           // in the heap; -1 when removed
	running bool          // a run is in flight: the next is skipped, never stacked
	slow    bool          // the last run timed out or took over half its timeout
	removed bool
}

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *entryHeap) Push(x any)        { e := x.(*entry); e.index = len(*h); *h = append(*h, e) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// scheduler runs targets on their intervals or cron schedules. One
// goroutine keeps a heap of due times; each run gets its own goroutine, so
// a slow or hanging probe (bounded by its own timeout) never delays
// another. A target never has two runs in flight. Concurrency is bounded
// per lane: targets that were slow last time run in their own lane
// (a quarter of the limit), so a host that hangs cannot take the slots of
// healthy ones.
type scheduler struct {
	prober   *Prober
	sem      chan struct{} // fast lane
	slowSem  chan struct{} // slow lane
	onResult func(Target, Result)
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	heap    entryHeap
	wake    chan struct{}
	wg      sync.WaitGroup
}

func newScheduler(p *Prober, concurrency int, onResult func(Target, Result)) *scheduler {
	return &scheduler{prober: p, sem: make(chan struct{}, concurrency), slowSem: make(chan struct{}, max(concurrency/4, 1)),
		onResult: onResult, now: time.Now,
		entries: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// set replaces the scheduled targets. Targets already scheduled keep their
// next run time; new ones start at an offset within their interval derived
// from their ID, so thousands of probes spread out instead of firing at once.
func (s *scheduler) set(targets []Target) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, t := range targets {
		id := t.ID()
		seen[id] = true
		var sched cron.Schedule
		if t.Cron != "" {
			var err error
			if sched, err = config.ParseCron(t.Cron, ""); err != nil {
				return err
			}
		}
		if e, ok := s.entries[id]; ok {
			e.t, e.sched = t, sched
			continue
		}
		e := &entry{t: t, sched: sched}
		if sched != nil {
			e.next = sched.Next(now)
		} else {
			e.next = now.Add(spread(id, t.Interval))
		}
		e.base = e.next
		s.entries[id] = e
		heap.Push(&s.heap, e)
	}
	for id, e := range s.entries {
		if !seen[id] {
			e.removed = true
			if e.index >= 0 {
				heap.Remove(&s.heap, e.index)
			}
			delete(s.entries, id)
		}
	}
	s.kick()
	return nil
}

// spread is a stable offset in [0, interval) for id.
func spread(id string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

func (s *scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run dispatches due probes until ctx ends, then waits for those in flight.
func (s *scheduler) run(ctx context.Context) {
	defer s.wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := s.dispatchDue(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// dispatchDue starts every due probe and returns the time to the next.
func (s *scheduler) dispatchDue(ctx context.Context) time.Duration {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.heap) > 0 {
		e := s.heap[0]
		if e.next.After(now) {
			return e.next.Sub(now)
		}
		if !e.running {
			e.running = true
			s.wg.Add(1)
			go s.runOne(ctx, e)
		}
		e.next = s.following(e, now)
		heap.Fix(&s.heap, 0)
	}
	return time.Hour
}

// following is the run after now: the next interval step from the
// scheduled time (no drift), or the cron schedule's next, plus jitter.
func (s *scheduler) following(e *entry, now time.Time) time.Time {
	if e.sched != nil {
		e.base = e.sched.Next(now)
	} else {
		e.base = e.base.Add(e.t.Interval)
		if !e.base.After(now) { // fell behind (suspend, overload): skip missed runs
			e.base = now.Add(e.t.Interval)
		}
	}
	if e.t.Jitter > 0 {
		return e.base.Add(rand.N(e.t.Jitter))
	}
	return e.base
}

func (s *scheduler) runOne(ctx context.Context, e *entry) {
	defer s.wg.Done()
	s.mu.Lock()
	sem, t := s.sem, e.t
	if e.slow {
		sem = s.slowSem
	}
	s.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		s.finish(e, false)
		return
	}
	r := s.prober.Probe(ctx, t)
	<-sem
	s.finish(e, strings.HasPrefix(r.Error, "timeout") || r.Duration > t.Timeout/2)
	if ctx.Err() == nil && s.onResult != nil {
		s.onResult(t, r) // the target probed, read under s.mu: set may replace e.t meanwhile
	}
}

func (s *scheduler) finish(e *entry, slow bool) {
	s.mu.Lock()
	e.running, e.slow = false, slow
	s.mu.Unlock()
}
