package store_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/phoenixvc/phoenix/internal/store"
)

// copySchema has what the domains' tables use: an identity key, a
// self-reference, a child table whose name sorts before its parent, text,
// blobs, reals, NULLs and a table without a primary key.
var copySchema = store.Migrations{Domain: "copytest", FS: fstest.MapFS{
	"001_init.sql": {Data: []byte(`
CREATE TABLE b_parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, up INTEGER REFERENCES b_parent(id), data BLOB, ratio REAL);
CREATE TABLE a_child (parent INTEGER NOT NULL REFERENCES b_parent(id), k TEXT NOT NULL, v TEXT, PRIMARY KEY (parent, k));
CREATE TABLE loose (x TEXT, y INTEGER);`)},
}}

func copyPair(t *testing.T) (src, dst *store.DB) {
	t.Helper()
	ctx := context.Background()
	src, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dst = openPostgres(t)
	for _, db := range []*store.DB{src, dst} {
		if err := db.Migrate(ctx, copySchema); err != nil {
			t.Fatal(err)
		}
	}
	return src, dst
}

func TestCopyKeepsEveryValue(t *testing.T) {
	ctx := context.Background()
	src, dst := copyPair(t)
	blob := []byte{0, 1, 2, 0xff, 'x', 0}
	for i := 1; i <= 1200; i++ { // more than one batch
		var up any
		if i > 1 {
			up = i - 1
		}
		if _, err := src.ExecContext(ctx, `INSERT INTO b_parent (name, up, data, ratio) VALUES ($1, $2, $3, $4)`,
			"n"+strings.Repeat("é", i%3)+string(rune('a'+i%26))+string(rune('0'+i%10))+strconv.Itoa(i), up, blob, float64(i)/3); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, src, `DELETE FROM b_parent WHERE id = 1200`) // ids with a hole at the end: the sequence follows max(id)
	mustExec(t, src, `INSERT INTO a_child VALUES (5, 'created_at', '2026-11-26T09:00:00.123456789Z'), (5, 'zz', NULL), (7, 'flag', '1')`)
	mustExec(t, src, `INSERT INTO loose VALUES ('same', 1), ('same', 1), (NULL, NULL), ('big', $1)`, int64(math.MaxInt64))
	mustExec(t, src, `UPDATE b_parent SET data = NULL, ratio = NULL WHERE id = 3`)
	var done, total int64
	tables, err := store.Copy(ctx, src, dst, func(d, tot int64) { done, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	if done != total || total != 1199+3+4 {
		t.Errorf("progress ended at %d of %d, want %d", done, total, 1199+3+4)
	}
	want := map[string]int64{"b_parent": 1199, "a_child": 3, "loose": 4}
	var order []string
	for _, tb := range tables {
		order = append(order, tb.Name)
		if tb.Rows != want[tb.Name] || len(tb.Checksum) != 64 {
			t.Errorf("%s: %d rows, checksum %q; want %d rows", tb.Name, tb.Rows, tb.Checksum, want[tb.Name])
		}
	}
	if strings.Join(order, ",") != "b_parent,a_child,loose" {
		t.Errorf("tables copied in order %v, want the parent first", order)
	}
	var got []byte
	var name string
	if err := dst.QueryRowContext(ctx, `SELECT name, data FROM b_parent WHERE id = 42`).Scan(&name, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, blob) || !strings.HasSuffix(name, "42") {
		t.Errorf("row 42 is %q %x", name, got)
	}
	// The identity sequence was moved: a new row gets max(id)+1.
	var id int64
	if err := dst.QueryRowContext(ctx, `INSERT INTO b_parent (name) VALUES ('after') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id != 1200 {
		t.Errorf("the first id after the copy is %d, want 1200", id)
	}
	// A second copy is refused: the destination holds rows now.
	if _, err := store.Copy(ctx, src, dst, nil); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "b_parent") {
		t.Fatalf("second copy: %v, want ErrNotEmpty naming b_parent", err)
	}
}

func TestCopyRefusesAnotherSchema(t *testing.T) {
	ctx := context.Background()
	src, dst := copyPair(t)
	newer := store.Migrations{Domain: "copytest", FS: fstest.MapFS{
		"001_init.sql": copySchema.FS.(fstest.MapFS)["001_init.sql"],
		"002_more.sql": {Data: []byte(`ALTER TABLE loose ADD COLUMN z TEXT`)},
	}}
	if err := dst.Migrate(ctx, newer); err != nil {
		t.Fatal(err)
	}
	_, err := store.Copy(ctx, src, dst, nil)
	if err == nil || !strings.Contains(err.Error(), "lacks migration copytest 2") {
		t.Fatalf("copy to a newer schema: %v", err)
	}
	var n int
	if err := dst.QueryRowContext(ctx, `SELECT count(*) FROM b_parent`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the destination got rows: %d %v", n, err)
	}
}

// TestCopyChecksumCatchesAChangedValue runs the checksum the copy ends
// with against a destination row changed behind its back.
func TestCopyChecksumCatchesAChangedValue(t *testing.T) {
	ctx := context.Background()
	src, dst := copyPair(t)
	mustExec(t, src, `INSERT INTO loose VALUES ('1', 1)`)
	if _, err := store.Copy(ctx, src, dst, nil); err != nil {
		t.Fatal(err)
	}
	a, err := store.TableChecksumForTest(ctx, src, dst, "loose")
	if err != nil || a != "" {
		t.Fatalf("equal tables differ: %q %v", a, err)
	}
	mustExec(t, dst, `UPDATE loose SET y = 2`)
	if a, err := store.TableChecksumForTest(ctx, src, dst, "loose"); err != nil || a == "" {
		t.Fatalf("a changed value was not caught: %q %v", a, err)
	}
}

func mustExec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
