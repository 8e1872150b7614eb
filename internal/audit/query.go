package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Filter selects records. Zero fields match everything.
type Filter struct {
	Since  time.Time // records at or after this time
	Actor  string    // exact user name
	Action string    // exact action, or a prefix ending in '*' (deploy.*)
	After  int64     // records with a greater sequence number (a page cursor)
	Before int64     // records with a smaller sequence number (a newest-first page cursor); 0: no bound
	Limit  int       // at most this many (0: no limit)
	// Newest lists the newest records first (by sequence number, the
	// order they were appended); Limit then keeps the newest ones.
	Newest bool
}

const recordColumns = `seq, at, actor, auth, action, target, source, request_id, outcome, detail, prev, hash`

func scanRecord(row interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var at string
	err := row.Scan(&r.Seq, &at, &r.Actor, &r.Auth, &r.Action, &r.Target, &r.Source, &r.RequestID, &r.Outcome, &r.Detail, &r.Prev, &r.Hash)
	r.At = parseTime(at)
	return r, err
}

func (f Filter) where() (string, []any) {
	conds := []string{"seq > $1"}
	args := []any{f.After}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Before > 0 {
		add("seq < $%d", f.Before)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since.UTC().Format(timeLayout))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if p, ok := strings.CutSuffix(f.Action, "*"); ok {
		add("substr(action, 1, length($%[1]d)) = $%[1]d", p)
	} else if f.Action != "" {
		add("action = $%d", f.Action)
	}
	return strings.Join(conds, " AND "), args
}

// Query returns the records f selects, oldest first (f.Newest: newest
// first).
func (l *Log) Query(ctx context.Context, f Filter) ([]Record, error) {
	var out []Record
	err := l.each(ctx, f, func(r Record) error { out = append(out, r); return nil })
	return out, err
}

// Export writes the records f selects as JSON lines, oldest first.
func (l *Log) Export(ctx context.Context, w io.Writer, f Filter) error {
	enc := json.NewEncoder(w)
	return l.each(ctx, f, func(r Record) error { return enc.Encode(r) })
}

func (l *Log) each(ctx context.Context, f Filter, fn func(Record) error) error {
	where, args := f.where()
	q := `SELECT ` + recordColumns + ` FROM audit_log WHERE ` + where + ` ORDER BY seq`
	if f.Newest {
		q += ` DESC`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := l.opts.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return fmt.Errorf("audit: query: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
