package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// target is the server a command talks to, and where it may stage blobs
// before uploading them.
type target struct {
	client *client.Client
	blobs  *local.Store // a store the upload reads from
	close  func() error
	// inProcess: the server lives only as long as this command, so work
	// it queues must be waited for.
	inProcess bool
	// sameStore: blobs is the server's own store (a server on this data
	// dir), so a build writes them there and nothing is uploaded.
	sameStore bool
}

// masterKeyFileEnv names the file holding the vault's master key: the
// mirror of --master-key-file (phoenix server, the vault commands), and
// what an in-process server reads it from.
const masterKeyFileEnv = "PHOENIX_MASTER_KEY_FILE"

// connect returns a client for --server; without it, for the server that
// holds --data's lock (found through its server.json; one naming another
// process is stale, never dialled); and when none runs, for an
// in-process server on --data that stops when the command ends. All three
// go through the same REST API. The in-process server unseals its vault
// as 'phoenix server' does, with PHOENIX_MASTER_KEY or the file
// PHOENIX_MASTER_KEY_FILE names: unsealing is per process, so no earlier
// 'phoenix vault unseal' could have opened it.
func (g *Globals) connect(ctx context.Context) (*target, error) { return g.connectWith(ctx, nil) }

// connectWith is connect with extra options for an in-process server
// (e.g. the backup repository of 'phoenix backup create --repo').
func (g *Globals) connectWith(ctx context.Context, extra func(*app.Options)) (*target, error) {
	return g.dial(ctx, true, extra)
}

// inProcessFlag names what gave an in-process server's option its value
// (app.Options.FlagName): the database URL comes from PHOENIX_DATABASE_URL,
// as no command but phoenix server has the flag.
func inProcessFlag(flag string) string {
	switch flag {
	case "database-url":
		return DatabaseURLEnv
	case "step-sandbox":
		return "PHOENIX_STEP_SANDBOX"
	}
	return "--" + flag
}

// dial is connectWith; without withKey an in-process server starts with
// its vault sealed (the vault commands unseal it with the key they were
// given, so that a wrong key is reported rather than failing the start).
func (g *Globals) dial(ctx context.Context, withKey bool, extra func(*app.Options)) (*target, error) {
	token := g.Token
	if g.Server != "" {
		return g.remote(g.Server, token)
	}
	_ = protectProcess() // as the server does: the steps it runs cannot read its keys through /proc
	opts := app.Options{DataDir: g.Data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), DatabaseURL: os.Getenv(DatabaseURLEnv), InProcess: true,
		FlagName: inProcessFlag, StepSandbox: os.Getenv("PHOENIX_STEP_SANDBOX")}
	if f := os.Getenv(masterKeyFileEnv); f != "" {
		opts.StepHidden = []string{f}
	}
	if withKey {
		key, err := serverMasterKey(os.Getenv(masterKeyFileEnv)) // server.go
		if err != nil {
			return nil, masterKeyError(masterKeyFileEnv, err)
		}
		opts.MasterKey = key
	}
	if extra != nil {
		extra(&opts)
	}
	_ = scrubEnviron(takenFromEnv) // as the server does
	a, err := app.New(opts)
	if err != nil {
		return nil, err
	}
	err = a.Start(ctx)
	if errors.Is(err, app.ErrDataDirInUse) { // other errors (a database in use, say) are their own
		return g.localServer()
	}
	if err != nil {
		return nil, err
	}
	tok, err := g.tokenFor(g.Data)
	if err != nil {
		a.Stop(context.Background())
		return nil, err
	}
	return &target{client: client.New(a.APIURL(), tok), blobs: a.Blobs, inProcess: true, sameStore: true,
		close: func() error { return a.Stop(context.Background()) }}, nil
}

// localServer talks to the running server that holds --data, staging blobs
// straight into its store: nothing is copied twice.
func (g *Globals) localServer() (*target, error) {
	si, err := app.RunningServer(g.Data)
	if err != nil {
		return nil, usererr.Wrap(usererr.Conflict, err, "data dir "+g.Data+" is in use by another process that names no running server (a server still starting, or not a phoenix server)").
			WithHint("wait for its start to finish and try again, or pass --server URL")
	}
	tok, err := g.tokenFor(g.Data)
	if err != nil {
		return nil, err
	}
	blobs, err := local.New(filepath.Join(g.Data, "blobs"))
	if err != nil {
		return nil, err
	}
	return &target{client: client.New(si.API, tok), blobs: blobs, sameStore: true, close: func() error { return nil }}, nil
}

// tokenFor is the token a command acts with on the server of data dir
// data, in-process or running there: --token (PHOENIX_TOKEN) when given,
// so that 'phoenix approve --token' is that user's approval with or
// without a server, else the admin token the data dir keeps.
func (g *Globals) tokenFor(data string) (string, error) {
	if g.Token != "" {
		return g.Token, nil
	}
	return app.ReadToken(data)
}

// remote talks to a server elsewhere; blobs are staged in the user cache so
// a re-deploy re-reads only changed files.
func (g *Globals) remote(url, token string) (*target, error) {
	if token == "" {
		return nil, usererr.New(usererr.Usage, "%s needs a token", g.flagOrEnv("server")).WithHint("set PHOENIX_TOKEN")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil, errors.New("no user cache dir to stage uploads in")
	}
	blobs, err := local.New(filepath.Join(dir, "phoenix", "blobs"))
	if err != nil {
		return nil, err
	}
	return &target{client: client.New(url, token), blobs: blobs, close: func() error { return nil }}, nil
}

// do sends one API request to the target server (connecting as connect
// does) and decodes the answer into out (when not nil).
func (g *Globals) do(ctx context.Context, method, path string, in, out any) error {
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	return t.client.Do(ctx, method, path, in, out)
}
