package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// CopiedTable is one table Copy filled: its name, rows and the checksum
// of its rows (ordered by primary key), equal on both sides.
type CopiedTable struct {
	Name     string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// ErrNotEmpty is wrapped by Copy's error when the destination already
// holds rows.
var ErrNotEmpty = errors.New("store: the destination database already holds data")

// CopyProgress is told, after each batch, how many rows of all tables are
// copied so far and how many there are in all.
type CopyProgress func(done, total int64)

// copyBatch is how many rows one INSERT carries (PostgreSQL allows 65535
// parameters per statement; no table has 60 columns).
const copyBatch = 500

// Copy copies every row of src (SQLite) into dst (PostgreSQL), table by
// table in foreign-key order, keeping every key, in one transaction on
// dst: a failure leaves dst as it was. Both must be at the same schema
// (the same migrations applied, which Copy checks), dst's tables empty
// (else ErrNotEmpty). Identity sequences are moved past the largest copied
// id, so the next insert does not collide. Before commit every table's
// rows are counted and checksummed on both sides (checksum), so a value
// the translation changed fails the copy rather than being committed.
func Copy(ctx context.Context, src, dst *DB, progress CopyProgress) ([]CopiedTable, error) {
	if src.Dialect != SQLite || dst.Dialect != Postgres {
		return nil, errors.New("store: copy goes from SQLite to PostgreSQL")
	}
	if err := sameSchema(ctx, src, dst); err != nil {
		return nil, err
	}
	tables, err := sqliteTables(ctx, src)
	if err != nil {
		return nil, err
	}
	// One read transaction on the source: a consistent view.
	stx, err := src.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: copy: read %s: %w", src.Where(), err)
	}
	defer stx.Rollback()
	var total, done int64
	counts := map[string]int64{}
	for _, t := range tables {
		n, err := count(ctx, stx, t)
		if err != nil {
			return nil, err
		}
		counts[t], total = n, total+n
	}
	var out []CopiedTable
	err = dst.Tx(ctx, func(tx *sql.Tx) error {
		if err := checkEmpty(ctx, tx, tables); err != nil {
			return err
		}
		for _, t := range tables {
			cols, err := postgresColumns(ctx, tx, t)
			if err != nil {
				return err
			}
			if err := copyTable(ctx, stx, tx, t, cols, func(n int64) {
				done += n
				if progress != nil {
					progress(done, total)
				}
			}); err != nil {
				return err
			}
			if err := resetIdentity(ctx, tx, t, cols); err != nil {
				return err
			}
		}
		out, err = compareTables(ctx, stx, tx, tables, counts)
		return err
	})
	return out, err
}

// sameSchema checks that both databases have the same migrations applied.
func sameSchema(ctx context.Context, src, dst *DB) error {
	read := func(db *DB) (map[string]bool, error) {
		rows, err := db.QueryContext(ctx, `SELECT domain, version FROM schema_migrations`)
		if err != nil {
			return nil, fmt.Errorf("store: copy: schema of %s: %w", db.Where(), err)
		}
		defer rows.Close()
		m := map[string]bool{}
		for rows.Next() {
			var d string
			var v int
			if err := rows.Scan(&d, &v); err != nil {
				return nil, err
			}
			m[fmt.Sprintf("%s %d", d, v)] = true
		}
		return m, rows.Err()
	}
	a, err := read(src)
	if err != nil {
		return err
	}
	b, err := read(dst)
	if err != nil {
		return err
	}
	for k := range b {
		if !a[k] {
			return fmt.Errorf("store: copy: %s lacks migration %s: start a server of this version on it once (it applies the migrations), stop it, then copy", src.Where(), k)
		}
	}
	for k := range a {
		if !b[k] {
			return fmt.Errorf("store: copy: %s has migration %s this Phoenix does not know: copy with the Phoenix that wrote it", src.Where(), k)
		}
	}
	return nil
}

// sqliteTables lists the source's tables (schema_migrations aside: the
// destination's own migrations wrote it), parents before the tables whose
// foreign keys name them.
func sqliteTables(ctx context.Context, db *DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: copy: list tables: %w", err)
	}
	names, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, t := range names {
		r, err := db.QueryContext(ctx, `SELECT "table" FROM pragma_foreign_key_list($1)`, t)
		if err != nil {
			return nil, fmt.Errorf("store: copy: foreign keys of %s: %w", t, err)
		}
		if parents[t], err = scanStrings(r); err != nil {
			return nil, err
		}
	}
	return dependencyOrder(names, parents)
}

// dependencyOrder sorts names so each comes after its parents (a table
// naming itself is fine: its rows are copied in key order).
func dependencyOrder(names []string, parents map[string][]string) ([]string, error) {
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("store: copy: foreign keys form a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		ps := append([]string(nil), parents[n]...)
		sort.Strings(ps)
		for _, p := range ps {
			if p != n {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func count(ctx context.Context, q Querier, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: copy: count %s: %w", table, err)
	}
	return n, nil
}

// checkEmpty refuses a destination with a row in any of tables.
func checkEmpty(ctx context.Context, tx *sql.Tx, tables []string) error {
	var full []string
	for _, t := range tables {
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(t)+`)`).Scan(&has); err != nil {
			return fmt.Errorf("store: copy: table %s on the destination: %w", t, err)
		}
		if has {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w (rows in %s)", ErrNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
