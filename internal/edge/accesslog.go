package edge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// AccessLogOptions configure an AccessLog. Zero values take the defaults.
type AccessLogOptions struct {
	// MaxSize is the size (bytes) past which the file is rotated; default
	// 100 MiB. Not used for a plain writer or stdout.
	MaxSize int64
	// Keep is how many rotated files (PATH.1 … PATH.Keep) are kept;
	// default 10.
	Keep int
	// Buffer is how many records may wait for the writer (rounded up to a
	// power of two); past it records are dropped and counted (Dropped).
	// Default 1024 (about 4 MiB).
	Buffer int
	// FlushEvery is how often buffered lines are written out; default 1s.
	FlushEvery time.Duration
	// Logger receives the rate-limited warnings (drops, write errors);
	// default slog.Default.
	Logger *slog.Logger
}

// AccessLog writes one JSON line per request the edge answers (see
// docs/edge.md "Access log"). The request path only copies the request's
// fields into a preallocated fixed-size record and hands it to a writer
// goroutine through a bounded queue: it never formats, writes, blocks or
// allocates. When the queue is full the record is dropped and counted.
// Methods are safe for concurrent use.
type AccessLog struct {
	ring      *recordRing   // the records waiting for the writer
	wake      chan struct{} // a nudge to the writer when the ring fills up
	dropped   atomic.Uint64
	closed    atomic.Bool
	reopen    chan chan error
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	sink      logSink
	opts      AccessLogOptions
}

// logSink is where the writer goroutine puts formatted lines.
type logSink interface {
	Write(line []byte) error
	Flush() error
	Reopen() error
	Close() error
}

// OpenAccessLog opens (creating 0640, appending) the file path and starts
// the writer; "-" writes to standard output. The file is rotated past
// MaxSize and reopened by Reopen.
func OpenAccessLog(path string, o AccessLogOptions) (*AccessLog, error) {
	o = o.withDefaults()
	if path == "-" {
		return newAccessLog(&plainSink{w: newBuffered(os.Stdout)}, o), nil
	}
	if path == "" {
		return nil, errors.New("edge: access log: empty path")
	}
	f, err := openRotating(path, o.MaxSize, o.Keep)
	if err != nil {
		return nil, err
	}
	return newAccessLog(f, o), nil
}

// NewAccessLog starts an access log writing to w (no rotation; Reopen
// does nothing). Close does not close w.
func NewAccessLog(w io.Writer, o AccessLogOptions) *AccessLog {
	return newAccessLog(&plainSink{w: newBuffered(w)}, o.withDefaults())
}

func (o AccessLogOptions) withDefaults() AccessLogOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = 100 << 20
	}
	if o.Keep <= 0 {
		o.Keep = 10
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func newAccessLog(sink logSink, o AccessLogOptions) *AccessLog {
	l := &AccessLog{
		ring: newRecordRing(o.Buffer), wake: make(chan struct{}, 1),
		reopen: make(chan chan error), stop: make(chan struct{}), done: make(chan struct{}),
		sink: sink, opts: o,
	}
	go l.run()
	return l
}

// Dropped is how many records were dropped because the writer was behind
// (0 for a nil log).
func (l *AccessLog) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

// Reopen flushes and reopens the file (after logrotate moved it away: the
// SIGHUP handler calls it). A no-op for a writer or stdout.
func (l *AccessLog) Reopen() error {
	ack := make(chan error, 1)
	select {
	case l.reopen <- ack:
		return <-ack
	case <-l.done:
		return errors.New("edge: access log is closed")
	}
}

// Close writes every queued record, flushes and closes the file. Records
// handed in after Close are dropped silently. Idempotent.
func (l *AccessLog) Close() error {
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		close(l.stop)
		<-l.done
	})
	return l.closeErr
}

// record queues one answered request; the request path's only cost: a
// CAS, the copy of the strings and an atomic store. It wakes the writer
// only when a quarter of the ring waits (else the writer polls).
func (l *AccessLog) record(r *http.Request, env string, status int, n int64, start time.Time, d time.Duration, client netip.Addr, https bool) {
	if l.closed.Load() {
		return
	}
	s, pos, ok := l.ring.claim()
	if !ok {
		l.dropped.Add(1)
		return
	}
	s.rec.fill(r, env, status, n, start, d, client, https)
	if l.ring.publish(s, pos) >= uint64(len(l.ring.slots)/4) {
		select {
		case l.wake <- struct{}{}:
		default: // already nudged
		}
	}
}

// pollEvery is how often the writer looks for records without a nudge.
const pollEvery = 50 * time.Millisecond

// run is the writer goroutine.
func (l *AccessLog) run() {
	defer close(l.done)
	interval := min(pollEvery, l.opts.FlushEvery)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	w := logWarner{log: l.opts.Logger}
	line := make([]byte, 0, 8<<10)
	var stamps stampCache
	drain := func() { // at most a ring's worth: a steady stream must not starve the other cases
		for range len(l.ring.slots) {
			rec := l.ring.next()
			if rec == nil {
				return
			}
			line = rec.appendJSON(line[:0], &stamps)
			l.ring.release()
			w.check("write", l.sink.Write(line))
		}
		select {
		case l.wake <- struct{}{}: // more waits: come back soon
		default:
		}
	}
	flushed := time.Now()
	for {
		select {
		case <-l.wake:
			drain()
		case now := <-tick.C:
			drain()
			if now.Sub(flushed)+interval > l.opts.FlushEvery { // never more than FlushEvery apart
				flushed = now
				flushed = now
				w.check("flush", l.sink.Flush())
				w.drops(l.dropped.Load())
			}
		case ack := <-l.reopen:
			drain() // what was answered before goes to the old file (a ring holds no more)
			err := l.sink.Reopen()
			w.check("reopen", err)
			ack <- err
		case <-l.stop:
			for l.ring.next() != nil { // producers stopped (closed): this ends
				drain()
			}
			l.closeErr = errors.Join(l.sink.Flush(), l.sink.Close())
			return
		}
	}
}

// logWarner logs the writer's problems at most once per warnEvery.
type logWarner struct {
	log      *slog.Logger
	last     time.Time
	reported uint64 // drops already reported
}

const warnEvery = 10 * time.Second

func (w *logWarner) check(op string, err error) {
	if err == nil || time.Since(w.last) < warnEvery {
		return
	}
	w.last = time.Now()
	w.log.Warn("edge: access log "+op+" failed", "err", err)
}

func (w *logWarner) drops(total uint64) {
	if total == w.reported || time.Since(w.last) < warnEvery {
		return
	}
	w.last = time.Now()
	w.log.Warn("edge: access log dropped records: its writer fell behind (see phoenix_edge_access_log_dropped_total)",
		"dropped", total-w.reported, "total", total)
	w.reported = total
}

// WriteMetrics writes the access log's counter in the Prometheus text
// format (nil: nothing).
func (l *AccessLog) WriteMetrics(w io.Writer) {
	if l == nil {
		return
	}
	family(w, "phoenix_edge_access_log_dropped_total", "counter", "Access log records dropped because the writer fell behind.")
	fmt.Fprintf(w, "phoenix_edge_access_log_dropped_total %d\n", l.Dropped())
}
