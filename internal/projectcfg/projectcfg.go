// Package projectcfg keeps each project's phoenix.yaml as the server last
// received it, in the database: a release's when its run is accepted, or
// the one 'phoenix deploy' hands over. The newest wins, whichever way it
// came; the record says where it came from and when. The server's
// monitor, notification channels and deployment verification read it
// (internal/app), so it survives a restart and every replica sharing the
// database sees it.
//
// What is stored holds no secret value: phoenix.yaml names secrets
// (secret:NAME), and a file with one written in it is refused for
// 'phoenix deploy'; a release's is kept as its run folder's path instead.
package projectcfg

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the schema of the stored configurations.
func Migrations() store.Migrations { return store.EmbeddedMigrations("projectcfg", migrationFiles) }

// Kinds of source.
const (
	Release = "release" // accepted with a release's run
	Deploy  = "deploy"  // handed over by 'phoenix deploy'
)

// Entry is a project's stored phoenix.yaml and where it came from.
type Entry struct {
	Project  string    `json:"project"`
	Kind     string    `json:"kind"`              // Release or Deploy
	Release  string    `json:"release,omitempty"` // the release's version
	Run      int64     `json:"run,omitempty"`     // the release's run
	Actor    string    `json:"actor,omitempty"`
	Digest   string    `json:"digest"` // sha256 of the file (of the run folder's path when YAML is empty)
	Revision int64     `json:"revision"`
	At       time.Time `json:"at"`
	// YAML is the file as written; empty when it holds a secret value
	// (a release's), and Dir is then the run's folder holding it.
	YAML []byte `json:"-"`
	Dir  string `json:"-"`
}

// From says where the entry came from: "release v1.2.0 (run 17) by
// alice", "phoenix deploy by alice"; "a release by alice" when the
// release is not shown (its run is one the reader may not see).
func (e Entry) From() string {
	s := "phoenix deploy"
	switch {
	case e.Kind == Release && e.Release == "":
		s = "a release"
	case e.Kind == Release:
		s = "release " + e.Release
		if e.Run != 0 {
			s += fmt.Sprintf(" (run %d)", e.Run)
		}
	}
	if e.Actor != "" {
		s += " by " + e.Actor
	}
	return s
}

// Event is a change for the audit log.
type Event struct {
	Action, Project, Actor, Detail string
}

// Options configure a Store.
type Options struct {
	DB *store.DB
	// Audit, when set, records each change in its transaction; an error
	// undoes the change.
	Audit func(ctx context.Context, tx *sql.Tx, e Event) error
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store keeps the projects' configurations.
type Store struct{ opts Options }

// New returns a Store over opts.DB (migrated with Migrations).
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts}
}

// digestOf is the entry's content digest.
func digestOf(e Entry) string {
	b := e.YAML
	if len(b) == 0 {
		b = []byte("dir:" + e.Dir)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Save stores e as its project's configuration, audited as
// "project.config" in the same transaction, and returns it as stored.
// The same content as stored already changes nothing (changed false):
// the record keeps who handed it over first.
func (s *Store) Save(ctx context.Context, e Entry) (_ *Entry, changed bool, err error) {
	e.Digest, e.At = digestOf(e), s.opts.Now().UTC()
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := get(ctx, tx, e.Project)
		if err != nil {
			return err
		}
		if cur != nil && cur.Digest == e.Digest {
			e = *cur
			return nil
		}
		changed = true
		if e.Revision, err = upsert(ctx, tx, e); err != nil {
			return err
		}
		if s.opts.Audit == nil {
			return nil
		}
		return s.opts.Audit(ctx, tx, Event{Action: "project.config", Project: e.Project, Actor: e.Actor,
			Detail: "phoenix.yaml from " + e.From() + ", sha256 " + e.Digest[:12]})
	})
	if err != nil {
		return nil, false, fmt.Errorf("projectcfg: save the phoenix.yaml of %s: %w", e.Project, err)
	}
	return &e, changed, nil
}

// upsert writes e and returns its revision: one more than the stored
// one's, counted by the database so concurrent saves on replicas never
// share one.
func upsert(ctx context.Context, tx *sql.Tx, e Entry) (rev int64, err error) {
	err = tx.QueryRowContext(ctx, `INSERT INTO project_configs
		(project, kind, release, run_id, actor, yaml, dir, digest, revision, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
		ON CONFLICT (project) DO UPDATE SET kind = excluded.kind, release = excluded.release, run_id = excluded.run_id,
			actor = excluded.actor, yaml = excluded.yaml, dir = excluded.dir, digest = excluded.digest,
			revision = project_configs.revision + 1, updated_at = excluded.updated_at
		RETURNING revision`,
		e.Project, e.Kind, e.Release, e.Run, e.Actor, string(e.YAML), e.Dir, e.Digest, e.At.UTC().Format(time.RFC3339Nano)).Scan(&rev)
	return rev, err
}

// Get returns project's stored configuration, nil when it has none.
func (s *Store) Get(ctx context.Context, project string) (*Entry, error) {
	e, err := get(ctx, s.opts.DB, project)
	if err != nil {
		return nil, fmt.Errorf("projectcfg: read the phoenix.yaml of %s: %w", project, err)
	}
	return e, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func get(ctx context.Context, q querier, project string) (*Entry, error) {
	e := Entry{Project: project}
	var yaml, at string
	err := q.QueryRowContext(ctx, `SELECT kind, release, run_id, actor, yaml, dir, digest, revision, updated_at
		FROM project_configs WHERE project = $1`, project).
		Scan(&e.Kind, &e.Release, &e.Run, &e.Actor, &yaml, &e.Dir, &e.Digest, &e.Revision, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.YAML = []byte(yaml)
	e.At, _ = time.Parse(time.RFC3339Nano, at)
	return &e, nil
}

// Revisions returns the revision of every stored project's
// configuration: a replica reloads those that changed.
func (s *Store) Revisions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT project, revision FROM project_configs`)
	if err != nil {
		return nil, fmt.Errorf("projectcfg: read the revisions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var p string
		var r int64
		if err := rows.Scan(&p, &r); err != nil {
			return nil, fmt.Errorf("projectcfg: read the revisions: %w", err)
		}
		out[p] = r
	}
	return out, rows.Err()
}
