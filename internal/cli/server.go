package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
)

type serverOptions struct {
	listen     string
	edgeListen string
	debug      bool
}

func newServerCmd(g *Globals) *cobra.Command {
	o := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Phoenix server: API, edge and background work",
		Long: `Run the all-in-one Phoenix server on one data dir: the REST API on --listen and
the edge serving every environment on --edge-listen. Each environment answers at
http://<env>.<project>.localhost:<edge port>/ unless it has its own domains.

Only one server may use a data dir at a time. SIGINT or SIGTERM shuts it down
gracefully: in-flight requests finish first.`,
		Example: `  phoenix server --data /var/lib/phoenix
  PHOENIX_LISTEN=0.0.0.0:7070 phoenix server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd.Context(), g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7070", "address of the REST API")
	f.StringVar(&o.edgeListen, "edge-listen", "127.0.0.1:8080", "address of the edge serving the sites")
	f.BoolVar(&o.debug, "debug", false, "log at debug level")
	return cmd
}

func runServer(ctx context.Context, g *Globals, o *serverOptions) error {
	log := newLogger(g.Stderr, o.debug)
	a, err := app.New(app.Options{DataDir: g.Data, Listen: o.listen, EdgeListen: o.edgeListen, Logger: log})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	log.Info("phoenix server started", "data", g.Data, "api", a.APIURL())
	return waitAndStop(ctx, a, log.Info)
}

// waitAndStop blocks until ctx ends or a server fails, then stops a.
func waitAndStop(ctx context.Context, a *app.App, info func(string, ...any)) error {
	var runErr error
	select {
	case <-ctx.Done():
		info("shutting down")
	case runErr = <-a.Err():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil && runErr == nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return runErr
}
