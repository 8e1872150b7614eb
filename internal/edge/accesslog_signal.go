package edge

import (
	"os"
	"os/signal"
)

// ReopenOn reopens the log's file whenever the process receives one of
// sigs (SIGHUP, after logrotate moved the file away) until the returned
// function is called.
func (l *AccessLog) ReopenOn(sigs ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				if err := l.Reopen(); err != nil {
					l.opts.Logger.Warn("edge: access log reopen", "err", err)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
