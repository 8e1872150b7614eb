package storetest

import (
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
)

// testWritersSerialize checks the guarantee domains rely on: read-then-
// write transactions (the audit chain's append, say) never interleave, so
// no two see the same maximum.
func testWritersSerialize(t *testing.T, db *store.DB) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE chain (seq INTEGER NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				errs <- db.Tx(ctx, func(tx *sql.Tx) error {
					var max int
					if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM chain`).Scan(&max); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO chain (seq) VALUES ($1)`, max+1)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n, max int
	db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(seq) FROM chain`).Scan(&n, &max)
	if n != 100 || max != 100 {
		t.Fatalf("rows %d, max %d: want 100, 100", n, max)
	}
}

// testTypes checks that migrations' column types mean what they mean on
// SQLite: 64-bit integers, Go bools stored as 1 and 0, 8-byte reals, bytes
// kept exactly, text that sorts byte by byte, keys assigned on insert.
func testTypes(t *testing.T, db *store.DB) {
	m := migs(map[string]string{"001_t.sql": "CREATE TABLE t (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  big INTEGER NOT NULL,\n" +
		"  flag INTEGER NOT NULL DEFAULT 0,\n  r REAL NOT NULL,\n  b BLOB NOT NULL,\n  s TEXT NOT NULL\n);\n"})
	if err := db.Migrate(ctx, m); err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"b", "B", "a", "é", "_"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (big, flag, r, b, s) VALUES ($1, $2, $3, $4, $5)`,
			int64(1)<<40+int64(i), i%2 == 0, 0.1, []byte{0, 0xff}, s); err != nil {
			t.Fatal(err)
		}
	}
	var odd int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE flag = $1`, true).Scan(&odd); err != nil || odd != 3 {
		t.Fatalf("rows with flag = true: %d, %v", odd, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, big, flag, r, b, s FROM t ORDER BY s`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var order []string
	for rows.Next() {
		var id, big int64
		var flag bool
		var r float64
		var b []byte
		var s string
		if err := rows.Scan(&id, &big, &flag, &r, &b, &s); err != nil {
			t.Fatal(err)
		}
		if big != int64(1)<<40+id-1 || flag != ((id-1)%2 == 0) || r != 0.1 || string(b) != "\x00\xff" {
			t.Fatalf("row %d: big %d flag %v r %v b %x", id, big, flag, r, b)
		}
		order = append(order, s)
	}
	if got := strings.Join(order, " "); got != "B _ a b é" {
		t.Fatalf("order = %q, want byte order", got)
	}
}
