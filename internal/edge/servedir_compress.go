package edge

import (
	"context"
	"log/slog"
	"os"
	"time"
)

// backgroundVariants generates a served folder's missing variants after
// serving starts and swaps the compressed site in when they are ready, so a
// large folder starts as fast as without them.
type backgroundVariants struct {
	cancel context.CancelFunc
	done   chan struct{}
	tmp    string
	site   *compressedSite // set before done is closed; nil on failure
}

// startVariants compresses base into a new private temporary folder in the
// background and then serves the result as env's release (unless no file
// got a variant). ready, when set,
// is called after the swap with that folder and the number of files that
// got variants. Call stop when serving ends.
func startVariants(ctx context.Context, hosts *Hosts, env string, base *DirSite, log *slog.Logger, ready func(dir string, files int)) *backgroundVariants {
	ctx, cancel := context.WithCancel(ctx)
	b := &backgroundVariants{cancel: cancel, done: make(chan struct{})}
	tmp, err := os.MkdirTemp("", "phoenix-serve-*")
	if err != nil {
		log.Warn("edge: no compressed variants: make a private folder", "err", err)
		close(b.done)
		return b
	}
	b.tmp = tmp
	go func() {
		defer close(b.done)
		start := time.Now()
		site, n, err := compressDir(ctx, base, tmp, compressWorkers())
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("edge: no compressed variants; files are served uncompressed", "err", err)
			}
			return
		}
		if n > 0 {
			b.site = site
			hosts.SetSite(env, site)
		} else {
			site.Close() // nothing to add: keep serving base
		}
		log.Info("edge: compressed variants ready", "files", n, "took", time.Since(start).Round(time.Millisecond).String())
		if ready != nil {
			ready(tmp, n)
		}
	}()
	return b
}

// stop ends the compression if it still runs, closes the compressed site
// and removes the private folder. Call it once nothing is served any more.
func (b *backgroundVariants) stop(log *slog.Logger) {
	b.cancel()
	<-b.done
	if b.site != nil {
		b.site.Close()
	}
	if b.tmp == "" {
		return
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		log.Warn("edge: remove the compressed variants", "dir", b.tmp, "err", err)
	}
}
