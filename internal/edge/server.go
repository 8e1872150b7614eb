package edge

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// Server runs a Handler on a listener with timeouts that hold against slow
// clients, optional TLS (with HTTP/2), and graceful shutdown when the
// context ends. Zero durations take the defaults shown.
type Server struct {
	Handler     http.Handler
	TLSCertFile string // PEM certificate chain; with TLSKeyFile enables HTTPS and HTTP/2
	TLSKeyFile  string // PEM private key
	// TLSConfig, instead of the files, serves HTTPS with its certificates
	// (e.g. GetCertificate of ACME, see docs/edge.md); HTTP/2 is added.
	TLSConfig         *tls.Config
	ReadHeaderTimeout time.Duration // 10s: a client must send its headers within this
	ReadTimeout       time.Duration // 30s: whole request, body included
	WriteTimeout      time.Duration // 5m: a response must be written within this
	IdleTimeout       time.Duration // 2m: keep-alive connections idle longer are closed
	MaxHeaderBytes    int           // 64 KiB: larger request headers get 431
	ShutdownTimeout   time.Duration // 10s: in-flight requests may finish within this
	Logger            *slog.Logger  // default slog.Default
	// DisableFastPath serves every request with net/http. By default a
	// *Handler on plain TCP is served by the lean HTTP/1.1 loop (package
	// h1), which hands everything unusual to net/http; see docs/edge.md.
	DisableFastPath bool
	// Loops is the number of event loops (threads) of the lean loop on
	// Linux; 0 picks one per two cores (see Loops and docs/edge.md).
	Loops int
	// ConnLimit, when set, caps the connections one client holds open
	// (shared with the edge's other listeners); see ConnLimit.
	ConnLimit *ConnLimit

	refused atomic.Uint64             // connections ConnLimit refused on this listener
	lean    atomic.Pointer[h1.Server] // the lean loop while Serve runs it (tests read its Stats)
	nh      connCounter               // net/http's connections (conns.go)
	addr    atomic.Pointer[string]    // the listener's address while Serve runs
}

func (s *Server) httpServer() *http.Server {
	d := orDefault[time.Duration]
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: d(s.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       d(s.ReadTimeout, 30*time.Second),
		WriteTimeout:      d(s.WriteTimeout, 5*time.Minute),
		IdleTimeout:       d(s.IdleTimeout, 2*time.Minute),
		MaxHeaderBytes:    orDefault(s.MaxHeaderBytes, 64<<10),
		ErrorLog:          errorLog(logger),
	}
}

// orDefault returns v when positive, else def.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Serve answers on ln until ctx ends, then stops accepting, lets in-flight
// requests finish (up to ShutdownTimeout) and returns nil. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Handler == nil {
		return errors.New("edge: Server.Handler is nil")
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return errors.New("edge: set both Server.TLSCertFile and Server.TLSKeyFile, or neither")
	}
	hs := s.httpServer()
	hs.TLSConfig = s.TLSConfig
	srv := s.server(hs)
	hs.ConnState = s.nh.hook(s.lean.Load() == nil) // behind the lean loop, net/http gets handed connections only
	if g := s.gate(); g != nil && s.lean.Load() == nil {
		ln = h1.GateListener(ln, g)
	}
	addr := ln.Addr().String()
	s.addr.Store(&addr)
	if h := handlerOf(s.Handler); h != nil { // its /metrics reports this listener's connections
		h.servers.add(s)
		defer h.servers.remove(s)
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls() {
			errc <- hs.ServeTLS(ln, s.TLSCertFile, s.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("edge: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(s.ShutdownTimeout, 10*time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("edge: shutdown: %w", err)
	}
	<-errc // http.ErrServerClosed
	return nil
}

// gate is ConnLimit as the h1.Gate of this listener; nil without a cap.
func (s *Server) gate() h1.Gate {
	if s.ConnLimit == nil {
		return nil
	}
	return gate{lim: s.ConnLimit, refused: &s.refused}
}

func (s *Server) tls() bool { return s.TLSCertFile != "" || s.TLSConfig != nil }

// server is what Serve runs: the lean HTTP/1.1 loop in front of hs for a
// handler that has a fast path (a *Handler, an *HTTPSRedirect) on plain
// TCP, else hs itself.
func (s *Server) server(hs *http.Server) interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
} {
	fh, ok := s.Handler.(h1.Handler)
	if !ok || s.DisableFastPath || s.tls() {
		s.lean.Store(nil)
		return hs
	}
	lean := &h1.Server{Handler: fh, Fallback: hs, Loops: Loops(s.Loops), Gate: s.gate()}
	s.lean.Store(lean)
	return lean
}

// ListenAndServe listens on addr (host:port) and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := Listen(ctx, addr, false)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Listen opens a TCP listener on addr. With reusePort the socket carries
// SO_REUSEPORT, so other processes (serving workers) can listen on the
// same address and the kernel spreads connections over all of them.
func Listen(ctx context.Context, addr string, reusePort bool) (net.Listener, error) {
	var lc net.ListenConfig
	if reusePort {
		if !reusePortSupported {
			return nil, fmt.Errorf("edge: listen on %s: serving workers (SO_REUSEPORT) are not supported on this system", addr)
		}
		lc.Control = reusePortControl
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("edge: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// ServeOptions configure ServeDir.
type ServeOptions struct {
	Handler     Options // NotFoundPage defaults to "/404.html" here
	TLSCertFile string
	TLSKeyFile  string
	// Ready, when set, is called with the bound address once the site is
	// indexed and the listener is open (useful with port 0).
	Ready func(addr net.Addr)
	// ReusePort opens the listener with SO_REUSEPORT, for one of several
	// worker processes serving the same address.
	ReusePort bool
	// Listener, when set, is served instead of listening on the address
	// (a socket systemd passed: internal/activation).
	Listener net.Listener
	// Loops is Server.Loops.
	Loops int
	// IdleTimeout is Server.IdleTimeout (0: 2 minutes).
	IdleTimeout time.Duration
	// MaxConnsPerIP caps the connections one client holds open (0: no
	// cap); Handler.TrustedProxies are not counted. See ConnLimit.
	MaxConnsPerIP int
	// Policy, when set, is applied to the folder as to an environment of
	// the server (a project's edge: section: header rules, rate limit,
	// firewall).
	Policy *Policy
	// Warn, when set, is called with each warning about the folder's
	// config (DirSite.Warnings) once it is indexed, before Ready.
	Warn func(swa.Problem)

	// NoCompress turns off the br and gzip variants ServeDir otherwise
	// generates, in the background, for compressible files without a
	// precompressed sibling (into a private temporary folder, never dir).
	NoCompress bool
	// Compressed, when set, is called once those variants are made and
	// served (when no file got one, nothing changes), with the private
	// folder holding them (removed when ServeDir returns) and the number of
	// files that got one. Tests wait on it.
	Compressed func(tmp string, files int)
}

// ServeDir serves the folder dir on addr with staticwebapp.config.json
// semantics until ctx ends (`phoenix serve DIR`). The site answers on every
// host name; the admin host still answers /health and /metrics. Unless
// opts.NoCompress, compressible files without precompressed siblings get br
// and gzip variants once serving has started (see startVariants).
func ServeDir(ctx context.Context, dir, addr string, opts ServeOptions) error {
	site, err := NewDirSite(ctx, dir)
	if err != nil {
		return err
	}
	defer site.Close()
	if opts.Warn != nil {
		for _, w := range site.Warnings() {
			opts.Warn(w)
		}
	}
	hosts := NewHosts()
	hosts.SetSite("local", site)
	hosts.SetFallback("local")
	if opts.Policy != nil {
		if err := hosts.SetPolicy("local", opts.Policy); err != nil {
			return err
		}
	}
	ho := opts.Handler
	if ho.NotFoundPage == "" {
		ho.NotFoundPage = "/404.html"
	}
	h, err := NewHandler(hosts, ho)
	if err != nil {
		return err
	}
	var lim *ConnLimit
	if opts.MaxConnsPerIP > 0 {
		if lim, err = NewConnLimit(opts.MaxConnsPerIP, ho.TrustedProxies); err != nil {
			return err
		}
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = Listen(ctx, addr, opts.ReusePort); err != nil {
			return err
		}
	}
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	if !opts.NoCompress {
		log := cmp.Or(ho.Logger, slog.Default())
		bg := startVariants(ctx, hosts, "local", site, log, opts.Compressed)
		defer bg.stop(log)
	}
	srv := &Server{Handler: h, TLSCertFile: opts.TLSCertFile, TLSKeyFile: opts.TLSKeyFile, Logger: ho.Logger, Loops: opts.Loops,
		IdleTimeout: opts.IdleTimeout, ConnLimit: lim}
	return srv.Serve(ctx, ln)
}
