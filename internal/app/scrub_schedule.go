package app

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/tick"
)

// scrubLook is how often the server looks whether a scheduled check of
// the blob store is due.
const scrubLook = time.Hour

// startScrub checks the blob store on a schedule (ScrubEvery, default
// weekly; negative: never), reading at most ScrubRate bytes a second so
// serving keeps the disk. The schedule lives in the audit log: a check is
// due when the newest store.verify record, of any actor, is older than
// ScrubEvery, so restarts neither skip nor repeat one.
func (a *App) startScrub() {
	if a.opts.ScrubEvery < 0 {
		return
	}
	a.singleton(func(ctx context.Context) {
		tick.Every(ctx, scrubLook, func(ctx context.Context) { a.scrubIfDue(ctx, time.Now()) })
	})
}

// scrubIfDue runs a scheduled check when one is due at now and reports
// whether it ran one.
func (a *App) scrubIfDue(ctx context.Context, now time.Time) bool {
	every := a.opts.ScrubEvery
	if every == 0 {
		every = DefaultScrubEvery
	}
	last, err := a.Audit.Query(ctx, audit.Filter{Action: "store.verify", Newest: true, Limit: 1})
	if err != nil {
		a.log.Error("store: cannot read when the blob store was last checked", "err", err)
		return false
	}
	if len(last) > 0 && now.Sub(last[0].At) < every {
		return false
	}
	r := a.opts.ScrubRate
	if r == 0 {
		r = DefaultScrubRate
	}
	if _, err := a.VerifyStore(ctx, ScrubActor, false, r); err != nil && ctx.Err() == nil {
		a.log.Error("store: the scheduled check of the blob store failed", "err", err)
	}
	return true
}

// limitReader returns a wrapper of blob readers that counts the bytes
// read into n and, when perSecond is positive, reads at most that many
// a second.
func limitReader(ctx context.Context, perSecond int64, n *int64) func(io.Reader) io.Reader {
	var lim *rate.Limiter
	if perSecond > 0 {
		lim = rate.NewLimiter(rate.Limit(perSecond), int(min(perSecond, 1<<20)))
	}
	return func(r io.Reader) io.Reader { return &paced{ctx: ctx, r: r, lim: lim, n: n} }
}

// paced is a reader limited by lim and counted into n.
type paced struct {
	ctx context.Context
	r   io.Reader
	lim *rate.Limiter
	n   *int64
}

func (p *paced) Read(b []byte) (int, error) {
	if p.lim != nil && len(b) > p.lim.Burst() {
		b = b[:p.lim.Burst()]
	}
	k, err := p.r.Read(b)
	if k > 0 {
		atomic.AddInt64(p.n, int64(k))
		if p.lim != nil {
			if werr := p.lim.WaitN(p.ctx, k); werr != nil {
				return k, werr
			}
		}
	}
	return k, err
}
