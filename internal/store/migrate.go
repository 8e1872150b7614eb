package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations is one domain's ordered schema changes, embedded in the binary.
// Files in FS are named NNN_description.sql (NNN a positive number, strictly
// increasing); each file runs once, in its own transaction, in order.
//
// A migration is written in SQLite's type names and translated for
// PostgreSQL (see postgresDDL). When that is not enough, a twin file
// NNN_description.postgres.sql beside it is what PostgreSQL runs instead,
// verbatim; SQLite never reads twins. A twin without its NNN_description.sql
// is an error.
type Migrations struct {
	Domain string // owner of the tables, e.g. "deploy"
	FS     fs.FS  // holds the .sql files at its root
}

// EmbeddedMigrations is a domain's schema from the "migrations" folder of
// files, the domain's //go:embed migrations/*.sql.
func EmbeddedMigrations(domain string, files fs.FS) Migrations {
	sub, _ := fs.Sub(files, "migrations") // fails only for an invalid folder name
	return Migrations{Domain: domain, FS: sub}
}

type migration struct {
	version int
	name    string
	sql     string
	pg      string // the NNN_name.postgres.sql twin, "" if none
}

var migrationName = regexp.MustCompile(`^(\d+)_([a-z0-9_]+)(\.postgres)?\.sql$`)

// statements returns the migration's statements as dialect d runs them.
func (m migration) statements(d Dialect) []string {
	if d != Postgres {
		return splitStatements(m.sql)
	}
	if m.pg != "" {
		return splitStatements(m.pg)
	}
	stmts := splitStatements(m.sql)
	for i, s := range stmts {
		stmts[i] = postgresDDL(s)
	}
	return stmts
}

func (m Migrations) load() ([]migration, error) {
	entries, err := fs.ReadDir(m.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", m.Domain, err)
	}
	var out []migration
	seen := map[int]string{}
	twins := map[string]string{} // base name -> twin's SQL
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		g := migrationName.FindStringSubmatch(e.Name())
		if g == nil {
			return nil, fmt.Errorf("store: migration %s/%s: name must be NNN_description.sql (or NNN_description.postgres.sql for a PostgreSQL twin)", m.Domain, e.Name())
		}
		b, err := fs.ReadFile(m.FS, e.Name())
		if err != nil {
			return nil, err
		}
		if g[3] != "" {
			twins[g[1]+"_"+g[2]+".sql"] = string(b)
			continue
		}
		v, _ := strconv.Atoi(g[1])
		if prev, ok := seen[v]; ok || v == 0 {
			return nil, fmt.Errorf("store: migration %s/%s: version %d is zero or also used by %s", m.Domain, e.Name(), v, prev)
		}
		seen[v] = e.Name()
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	for i := range out {
		if pg, ok := twins[out[i].name]; ok {
			out[i].pg = pg
			delete(twins, out[i].name)
		}
	}
	for base := range twins {
		return nil, fmt.Errorf("store: migration %s/%s: a PostgreSQL twin without %s", m.Domain, strings.TrimSuffix(base, ".sql")+".postgres.sql", base)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	domain     TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL,
	PRIMARY KEY (domain, version)
)`

// Migrate applies every migration not applied yet, domain by domain in the
// order given. It refuses to run against a database that has a migration
// this binary does not know (a newer Phoenix wrote it).
func (db *DB) Migrate(ctx context.Context, sets ...Migrations) error {
	_, err := db.migrate(ctx, sets)
	return err
}

// Migrated is one migration a call applied.
type Migrated struct {
	Domain  string
	Version int
	Name    string // its file, e.g. 012_verify_rollbacks_before_004.sql
}

func (db *DB) migrate(ctx context.Context, sets []Migrations) ([]Migrated, error) {
	if _, err := db.ExecContext(ctx, migrationsTable); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var done []Migrated
	for _, set := range sets {
		applied, err := db.migrateOne(ctx, set)
		done = append(done, applied...)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// MigrateAll is Migrate given a binary's whole schema: sets name every
// domain the binary has. Before it applies any migration it refuses a
// database that a newer Phoenix migrated past this binary: one holding a
// migration newer than its domain's newest here, or a domain none of sets
// names (a newer binary's tables, which this one would leave unread and
// stale while it ran). Nothing is changed then. It returns the
// migrations it applied, in order (with an error, those committed before
// it).
func (db *DB) MigrateAll(ctx context.Context, sets ...Migrations) ([]Migrated, error) {
	if _, err := db.ExecContext(ctx, migrationsTable); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	newest := map[string]int{}
	for _, set := range sets {
		ms, err := set.load()
		if err != nil {
			return nil, err
		}
		newest[set.Domain] = 0
		if len(ms) > 0 {
			newest[set.Domain] = ms[len(ms)-1].version
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT domain, MAX(version) FROM schema_migrations GROUP BY domain ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var domain string
		var version int
		if err := rows.Scan(&domain, &version); err != nil {
			return nil, fmt.Errorf("store: read schema_migrations: %w", err)
		}
		if n, known := newest[domain]; !known || version > n {
			return nil, newerSchema(domain, version)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	rows.Close()
	return db.migrate(ctx, sets)
}

// newerSchema is the refusal of a database a newer Phoenix migrated.
func newerSchema(domain string, version int) error {
	return fmt.Errorf("store: the database has %s schema version %d, newer than this binary knows; upgrade phoenix "+
		"(to go back to this version, restore the backup taken before the upgrade)", domain, version)
}

func (db *DB) migrateOne(ctx context.Context, set Migrations) ([]Migrated, error) {
	ms, err := set.load()
	if err != nil {
		return nil, err
	}
	current, err := db.SchemaVersion(ctx, set.Domain)
	if err != nil {
		return nil, err
	}
	if n := len(ms); current > 0 && (n == 0 || current > ms[n-1].version) {
		return nil, newerSchema(set.Domain, current)
	}
	var done []Migrated
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		var ran bool // false when another server applied it first
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			ran = false
			// Another server sharing the database may have applied it
			// since SchemaVersion: the write lock orders them.
			var applied int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE domain = $1 AND version = $2`,
				set.Domain, m.version).Scan(&applied); err != nil || applied > 0 {
				return err
			}
			ran = true
			for _, stmt := range m.statements(db.Dialect) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %s/%s: %w", set.Domain, m.name, err)
				}
			}
			_, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (domain, version, name, applied_at) VALUES ($1, $2, $3, $4)`,
				set.Domain, m.version, m.name, time.Now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return done, err
		}
		if ran {
			done = append(done, Migrated{Domain: set.Domain, Version: m.version, Name: m.name})
		}
	}
	return done, nil
}

// SchemaVersion returns the highest applied migration of domain, 0 if none.
func (db *DB) SchemaVersion(ctx context.Context, domain string) (int, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations WHERE domain = $1`, domain).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version of %s: %w", domain, err)
	}
	return int(v.Int64), nil
}

// splitStatements splits a migration file on semicolons that end a line.
// Migrations keep to plain DDL/DML (no triggers with inner semicolons).
func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			if stmt := strings.TrimSpace(cur.String()); stmt != ";" {
				out = append(out, stmt)
			}
			cur.Reset()
		}
	}
	if stmt := strings.TrimSpace(cur.String()); stmt != "" {
		out = append(out, stmt)
	}
	return out
}
