package edge

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// errorLog is net/http's ErrorLog for the edge's listeners: its lines at
// warn, except failed TLS handshakes, at debug. A public HTTPS listener
// meets those all day: a load balancer's TCP health check closing at once
// ("EOF"), a scanner asking for a name with no certificate, an old client.
// At warn they buried every line that matters; a certificate that cannot
// be obtained is logged by ACME itself (component=acme).
func errorLog(l *slog.Logger) *log.Logger { return log.New(errorWriter{l}, "", 0) }

type errorWriter struct{ l *slog.Logger }

func (w errorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, msg)
	return len(p), nil
}
