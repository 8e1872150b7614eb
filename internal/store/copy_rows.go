package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// pgColumn is a destination column: its name, PostgreSQL type and
// whether it is an identity (the next id comes from a sequence).
type pgColumn struct {
	name, typ string
	identity  bool
}

// postgresColumns lists table's columns on the destination, in order.
func postgresColumns(ctx context.Context, tx *sql.Tx, table string) ([]pgColumn, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type, is_identity FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, fmt.Errorf("store: copy: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []pgColumn
	for rows.Next() {
		var c pgColumn
		var ident string
		if err := rows.Scan(&c.name, &c.typ, &ident); err != nil {
			return nil, err
		}
		c.identity = ident == "YES"
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: copy: table %s is missing on the destination", table)
	}
	return out, nil
}

// sourceOrder checks that the source table has exactly cols and returns
// its ORDER BY clause: the primary key, "" without one.
func sourceOrder(ctx context.Context, stx *sql.Tx, table string, cols []pgColumn) (string, error) {
	rows, err := stx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info($1) ORDER BY pk, cid`, table)
	if err != nil {
		return "", fmt.Errorf("store: copy: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var names, pk []string
	for rows.Next() {
		var n string
		var p int
		if err := rows.Scan(&n, &p); err != nil {
			return "", err
		}
		names = append(names, n)
		if p > 0 {
			pk = append(pk, quoteIdent(n))
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	want := make([]string, len(cols))
	for i, c := range cols {
		want[i] = c.name
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		return "", fmt.Errorf("store: copy: table %s has columns %s on the source but %s on the destination", table, strings.Join(names, ","), strings.Join(want, ","))
	}
	if len(pk) == 0 {
		return "", nil
	}
	return " ORDER BY " + strings.Join(pk, ", "), nil
}

// selectAll returns the query reading table's cols on the source.
func selectAll(table string, cols []pgColumn, order string) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(table) + order
}

// eachRow calls fn with every row of query, its values converted for cols.
func eachRow(ctx context.Context, q Querier, query string, cols []pgColumn, fn func([]any) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range cols {
			vals[i] = toPostgres(vals[i], c.typ)
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// copyTable inserts the source's rows of table into the destination in
// batches, telling added how many rows each batch held.
func copyTable(ctx context.Context, stx, tx *sql.Tx, table string, cols []pgColumn, added func(int64)) error {
	order, err := sourceOrder(ctx, stx, table, cols)
	if err != nil {
		return err
	}
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n := len(batch) / len(cols)
		if _, err := tx.ExecContext(ctx, insertRows(table, cols, n), batch...); err != nil {
			return fmt.Errorf("store: copy: insert into %s: %w", table, err)
		}
		added(int64(n))
		batch = batch[:0]
		return nil
	}
	err = eachRow(ctx, stx, selectAll(table, cols, order), cols, func(vals []any) error {
		batch = append(batch, vals...)
		if len(batch) >= copyBatch*len(cols) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: copy: read %s: %w", table, err)
	}
	return flush()
}

// insertRows is an INSERT of n rows of cols, keeping identity values.
func insertRows(table string, cols []pgColumn, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(table) + " (")
	override := ""
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name))
		if c.identity {
			override = " OVERRIDING SYSTEM VALUE"
		}
	}
	b.WriteString(")" + override + " VALUES ")
	p := 1
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// toPostgres converts a value SQLite returned for a column of PostgreSQL
// type typ: text and bytea take either of SQLite's string kinds, an
// integral real fits a bigint.
func toPostgres(v any, typ string) any {
	switch typ {
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case "text":
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case "bigint", "integer", "smallint":
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f)
		}
	}
	return v
}

// resetIdentity moves each identity sequence of table past its largest
// copied value.
func resetIdentity(ctx context.Context, tx *sql.Tx, table string, cols []pgColumn) error {
	for _, c := range cols {
		if !c.identity {
			continue
		}
		q := `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(` + quoteIdent(c.name) + `) AS m FROM ` + quoteIdent(table) + `) s WHERE m IS NOT NULL`
		if _, err := tx.ExecContext(ctx, q, quoteIdent(table), c.name); err != nil {
			return fmt.Errorf("store: copy: reset the identity of %s.%s: %w", table, c.name, err)
		}
	}
	return nil
}

// compareTables counts and checksums every table on both sides and fails
// at the first difference.
func compareTables(ctx context.Context, stx, tx *sql.Tx, tables []string, counts map[string]int64) ([]CopiedTable, error) {
	var out []CopiedTable
	for _, t := range tables {
		cols, err := postgresColumns(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		order, err := sourceOrder(ctx, stx, t, cols)
		if err != nil {
			return nil, err
		}
		query := selectAll(t, cols, order)
		sn, ssum, err := checksum(ctx, stx, query, cols)
		if err != nil {
			return nil, fmt.Errorf("store: copy: checksum %s on the source: %w", t, err)
		}
		dn, dsum, err := checksum(ctx, tx, query, cols)
		if err != nil {
			return nil, fmt.Errorf("store: copy: checksum %s on the destination: %w", t, err)
		}
		if sn != counts[t] || dn != sn {
			return nil, fmt.Errorf("store: copy: table %s has %d rows on the source, %d on the destination", t, sn, dn)
		}
		if ssum != dsum {
			return nil, fmt.Errorf("store: copy: table %s differs between the source and the destination (checksums %s and %s): a value did not translate", t, ssum, dsum)
		}
		out = append(out, CopiedTable{Name: t, Rows: dn, Checksum: dsum})
	}
	return out, nil
}

// checksum hashes the rows query returns (its columns cols) in an order
// of their own: each row is hashed with its values in a typed, length-
// prefixed form (as toPostgres converts them, so a string and the same
// bytes agree where the column is bytea, and nothing else does), and the
// sorted row hashes are hashed in turn. It returns the row count and the
// hex digest.
func checksum(ctx context.Context, q Querier, query string, cols []pgColumn) (int64, string, error) {
	var sums [][32]byte
	err := eachRow(ctx, q, query, cols, func(vals []any) error {
		h := sha256.New()
		for _, v := range vals {
			b := canonical(v)
			fmt.Fprintf(h, "%d:", len(b))
			h.Write(b)
		}
		sums = append(sums, [32]byte(h.Sum(nil)))
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	slices.SortFunc(sums, func(a, b [32]byte) int { return strings.Compare(string(a[:]), string(b[:])) })
	all := sha256.New()
	for _, s := range sums {
		all.Write(s[:])
	}
	return int64(len(sums)), hex.EncodeToString(all.Sum(nil)), nil
}

// canonical is a value's typed byte form for Checksum.
func canonical(v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("N")
	case int64:
		return []byte("I" + strconv.FormatInt(x, 10))
	case float64:
		return []byte("F" + strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		return append([]byte("S"), x...)
	case []byte:
		return append([]byte("B"), x...)
	default:
		return []byte(fmt.Sprintf("%T:%v", v, v))
	}
}
