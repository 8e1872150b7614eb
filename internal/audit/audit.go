// Package audit is Phoenix's tamper-evident audit log: an append-only list
// of records (actor, action, target, time, source address, request id,
// outcome), each carrying the hash of the one before it, with checkpoints
// of the chain head signed by the server's audit key (a golang.org/x/mod
// sumdb note). Verify recomputes the chain and checks every checkpoint, and
// names the first record that was edited, deleted, inserted or reordered.
//
// Records are written inside the caller's transaction (AppendTx), so a
// state change and its record commit together or not at all: when the
// record cannot be written, the action fails.
package audit

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("audit", migrationFiles)
}

// Outcomes of an audited action.
const (
	OK          = "ok"
	Denied      = "denied"
	Failed      = "failed"
	RateLimited = "rate_limited"
)

// Event is what a caller records; the log adds sequence, time and hashes,
// and fills actor, source and request id from the context when empty.
type Event struct {
	Action  string // dotted verb, e.g. deploy.activate, auth.login
	Target  string // what it acted on, e.g. shop/production
	Outcome string // OK, Denied, Failed or RateLimited ("" means OK)
	Detail  string // free text; never a secret
	Actor   string // user name; "" takes Meta.Actor
}

// Record is one entry of the log.
type Record struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Auth      string    `json:"auth,omitempty"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	Source    string    `json:"source,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Outcome   string    `json:"outcome"`
	Detail    string    `json:"detail,omitempty"`
	Prev      string    `json:"prev"`
	Hash      string    `json:"hash"`
}

// timeLayout is fixed-width so stored times sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// hashed is the canonical form a record's hash covers: every field but the
// hash itself, in a fixed order, with the time as stored.
type hashed struct {
	Seq       int64  `json:"seq"`
	At        string `json:"at"`
	Actor     string `json:"actor"`
	Auth      string `json:"auth"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Source    string `json:"source"`
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"`
	Detail    string `json:"detail"`
	Prev      string `json:"prev"`
}

// ComputeHash returns the hash r should carry, from its other fields.
func ComputeHash(r Record) string {
	b, _ := json.Marshal(hashed{r.Seq, r.At.UTC().Format(timeLayout), r.Actor, r.Auth, r.Action, r.Target,
		r.Source, r.RequestID, r.Outcome, r.Detail, r.Prev})
	sum := sha256.Sum256(append([]byte("phoenix audit record\n"), b...))
	return hex.EncodeToString(sum[:])
}

// genesis is the prev of the first record.
var genesis = hex.EncodeToString(make([]byte, sha256.Size))

// Meta is who and where a request came from; the API puts it in the
// context so records written deep in a domain still name the actor.
type Meta struct {
	Actor     string // user name
	Auth      string // credential used, e.g. "token 1a2b…" or "session"; never the secret
	Source    string // client address
	RequestID string
}

type metaKey struct{}

// WithMeta returns ctx carrying m.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// WithActor returns ctx whose records name actor when ctx names no actor
// yet: the server's own work (a background collection, a pipeline run's
// steps) carries no request, and a record must still say who acted.
func WithActor(ctx context.Context, actor string) context.Context {
	m := MetaFrom(ctx)
	if m.Actor != "" || actor == "" {
		return ctx
	}
	m.Actor = actor
	return WithMeta(ctx, m)
}

// MetaFrom returns the Meta in ctx, or the zero Meta.
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// Options configures a Log.
type Options struct {
	DB *store.DB
	// Signer signs checkpoints. It may be nil, e.g. while the key is in a
	// sealed vault: records are still chained, checkpoints are deferred
	// until SetKey gives the log its signer.
	Signer note.Signer
	// Verifier checks checkpoints (the public half of the Signer's key).
	Verifier note.Verifier
	Now      func() time.Time
	// CheckpointEvery makes AppendTx sign a checkpoint inside the
	// transaction of every Nth record (default 256), so Verify can insist
	// that those checkpoints exist.
	CheckpointEvery int64
	// Anchor, when set, returns the newest checkpoint kept outside the
	// database (a signed note; nil when there is none yet) and where it
	// is, for messages. Verify insists that the log still reaches it and
	// holds its head: a tail deleted with the checkpoints covering it
	// leaves a log consistent in itself, but not with the anchor.
	Anchor func() (note []byte, where string, err error)
}

// Log is the audit log. It is safe for concurrent use.
type Log struct {
	opts Options

	mu       sync.RWMutex // guards signer and verifier (SetKey)
	signer   note.Signer
	verifier note.Verifier
}

// New returns a Log.
func New(opts Options) *Log {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 256
	}
	return &Log{opts: opts, signer: opts.Signer, verifier: opts.Verifier}
}
