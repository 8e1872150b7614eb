package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SnapshotFile is the name a snapshot of db is kept under in a backup:
// state.db (a SQLite file) or state.pgdump (pg_dump's custom format,
// which pg_restore reads).
func (db *DB) SnapshotFile() string {
	if db.Dialect == Postgres {
		return "state.pgdump"
	}
	return "state.db"
}

// pgDumpGlob is where Debian keeps each PostgreSQL version's programs.
var pgDumpGlob = "/usr/lib/postgresql/*/bin/pg_dump"

// PgDump finds pg_dump: on PATH, else the newest under
// /usr/lib/postgresql/*/bin; "" when PostgreSQL's client tools are not
// installed.
func PgDump() string {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	found, _ := filepath.Glob(pgDumpGlob)
	major := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	sort.Slice(found, func(i, j int) bool { return major(found[i]) < major(found[j]) })
	if len(found) == 0 {
		return ""
	}
	return found[len(found)-1]
}

// pgDump writes the database to dst with pg_dump in its custom format: one
// consistent snapshot (pg_dump reads in a single repeatable-read
// transaction) while writers go on. The password (from the URL or
// PGPASSWORD when the database was opened) goes to pg_dump through
// PGPASSWORD, never on its command line.
func (db *DB) pgDump(ctx context.Context, dst string) error {
	bin := PgDump()
	if bin == "" {
		return fmt.Errorf("%w: pg_dump is not installed: install it beside the server (Debian: apt-get install postgresql-client) for backups to hold the database; "+
			"PostgreSQL's own backups (pg_dump, base backups with WAL archiving, your provider's snapshots) protect it either way", ErrNoSnapshot)
	}
	args := []string{"--format=custom", "--no-sync", "--file=" + dst, "--dbname=" + withoutPassword(db.dsn)}
	for _, t := range db.ephemeral {
		args = append(args, "--exclude-table-data="+t)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PGAPPNAME=phoenix-backup")
	if db.password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+db.password)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(dst)
		msg := strings.TrimSpace(scrub(errors.New(stderr.String()), db.dsn, db.password))
		return fmt.Errorf("store: pg_dump of %s: %v: %s", db.url, err, msg)
	}
	return os.Chmod(dst, 0o600)
}

// CheckDump reads the table of contents of a pg_dump custom-format file
// with pg_restore --list: a truncated or damaged file fails.
func CheckDump(ctx context.Context, path string) error {
	bin := PgDump()
	if bin == "" {
		return fmt.Errorf("%w: pg_restore is not installed", ErrNoSnapshot)
	}
	restore := filepath.Join(filepath.Dir(bin), "pg_restore")
	out, err := exec.CommandContext(ctx, restore, "--list", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("store: %s does not read back: %v: %s", filepath.Base(path), err, strings.TrimSpace(string(out)))
	}
	return nil
}
