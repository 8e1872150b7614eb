package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"syscall"
	"time"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// reconnectFor is how long a follow goes on trying to reach a server that
// went away (a restart or an upgrade takes seconds) before it gives up;
// a variable for the tests.
var reconnectFor = 2 * time.Minute

// Backoff between attempts to reach the server again.
const (
	firstRetry = 250 * time.Millisecond
	maxRetry   = 5 * time.Second
)

// followLogs streams run id's log to w until the run has finished. A
// server that restarts under it (the stream cut, the server unreachable
// for a while) does not end the follow: it says so on stderr once, tries
// again with backoff, and goes on from where it was, each line written
// once (replayed). It gives up after reconnectFor without the server,
// saying how to follow the run again.
func followLogs(ctx context.Context, c *client.Client, stderr io.Writer, id int64, w io.Writer) error {
	out := &replayed{w: w, seen: map[uint64]int{}}
	var lostAt time.Time
	retry := firstRetry
	for {
		err := c.Logs(ctx, id, "", true, out)
		if err == nil {
			err = runEnded(ctx, c, id)
		}
		if err == nil || ctx.Err() != nil || !serverGone(err) {
			out.end(err == nil)
			return err
		}
		if lostAt.IsZero() {
			lostAt = time.Now()
			fmt.Fprintln(stderr, "server restarting, reconnecting...")
		}
		if time.Since(lostAt) > reconnectFor {
			return usererr.Wrap(usererr.Unavailable, err, fmt.Sprintf("lost the server for %s while following run %d", reconnectFor, id)).
				WithHint("the run goes on on the server once it is back: follow it with phoenix logs %d -f, see it with phoenix runs", id)
		}
		if err := sleepCtx(ctx, retry); err != nil {
			return err
		}
		retry = min(2*retry, maxRetry)
		out.replay()
		if err := runEnded(ctx, c, id); errors.Is(err, errRunGoesOn) || !serverGone(err) {
			lostAt, retry = time.Time{}, firstRetry // reached again: a later loss gets the full time
		}
	}
}

// errRunGoesOn says a log stream ended cleanly while the run had not
// finished: the server stopped it on its way down.
var errRunGoesOn = usererr.New(usererr.Unavailable, "the log stream ended before the run")

// runEnded is nil when run id has finished, errRunGoesOn when it has not,
// or the error reaching the server.
func runEnded(ctx context.Context, c *client.Client, id int64) error {
	d, err := c.Run(ctx, id)
	if err != nil {
		return err
	}
	if !pipeline.Finished(d.Status) {
		return errRunGoesOn
	}
	return nil
}

// serverGone reports whether err is the server going away (a stream cut,
// a refused or reset connection, 503 while it stops or starts), not an
// answer about the run.
func serverGone(err error) bool {
	return usererr.KindOf(err) == usererr.Unavailable || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// replayed passes a run's log on to w line by line, and after replay
// leaves out the lines it passed on before: a stream started again
// (the log from its beginning) shows only what is new. Lines are matched
// by content and counted, not by position, as a log of several steps
// running at once comes back in plan order, not in the order the lines
// were written. A line is passed on when complete, so a line cut by a
// lost stream is written once, whole, from the next one.
type replayed struct {
	w       io.Writer
	seen    map[uint64]int // lines passed on, by hash
	skip    map[uint64]int // lines of the current stream still to leave out
	partial []byte
}

func (r *replayed) Write(p []byte) (int, error) {
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := r.line(r.partial[:i+1]); err != nil {
			return len(p), err
		}
		r.partial = r.partial[i+1:]
	}
}

func (r *replayed) line(l []byte) error {
	h := fnv.New64a()
	h.Write(l)
	k := h.Sum64()
	if r.skip[k] > 0 {
		r.skip[k]--
		return nil
	}
	r.seen[k]++
	_, err := r.w.Write(l)
	return err
}

// replay starts a new stream: what was passed on is left out of it, and
// a cut line is dropped (the new stream has it whole).
func (r *replayed) replay() {
	r.skip = make(map[uint64]int, len(r.seen))
	for k, n := range r.seen {
		r.skip[k] = n
	}
	r.partial = r.partial[:0]
}

// end writes what is left of a last line without a newline when the
// stream ended complete.
func (r *replayed) end(complete bool) {
	if complete && len(r.partial) > 0 {
		r.w.Write(r.partial)
	}
	r.partial = nil
}
