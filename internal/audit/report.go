package audit

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ActionCount is how many records of one action and outcome a window holds.
type ActionCount struct {
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
	Count   int64  `json:"count"`
}

// Counts counts the records at or after from and before to by action and
// outcome, for reports (internal/report), ordered by action and outcome.
func (l *Log) Counts(ctx context.Context, from, to time.Time) ([]ActionCount, error) {
	rows, err := l.opts.DB.QueryContext(ctx, `SELECT action, outcome, COUNT(*) FROM audit_log
		WHERE at >= $1 AND at < $2 GROUP BY action, outcome ORDER BY action, outcome`, fmtAt(from), fmtAt(to))
	if err != nil {
		return nil, fmt.Errorf("audit: counts: %w", err)
	}
	defer rows.Close()
	var out []ActionCount
	for rows.Next() {
		var c ActionCount
		if err := rows.Scan(&c.Action, &c.Outcome, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastSuccess returns, per actor, the newest record of action with
// outcome ok before before (the last sign-in, for action auth.login).
func (l *Log) LastSuccess(ctx context.Context, action string, before time.Time) (map[string]time.Time, error) {
	rows, err := l.opts.DB.QueryContext(ctx, `SELECT actor, MAX(at) FROM audit_log
		WHERE action = $1 AND outcome = $2 AND at < $3 GROUP BY actor`, action, OK, fmtAt(before))
	if err != nil {
		return nil, fmt.Errorf("audit: last %s: %w", action, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var actor, at string
		if err := rows.Scan(&actor, &at); err != nil {
			return nil, err
		}
		out[actor] = parseTime(at)
	}
	return out, rows.Err()
}

// Selection picks records of a window: those whose action starts with
// one of Prefixes, or (Refused) whose outcome is not ok.
type Selection struct {
	Prefixes []string
	Refused  bool
}

// Between lists the records at or after from and before to that sel
// picks, oldest first, at most limit of them (the newest are cut).
func (l *Log) Between(ctx context.Context, from, to time.Time, sel Selection, limit int) ([]Record, error) {
	args := []any{fmtAt(from), fmtAt(to)}
	var or []string
	for _, p := range sel.Prefixes {
		args = append(args, p)
		or = append(or, fmt.Sprintf("substr(action, 1, length($%[1]d)) = $%[1]d", len(args)))
	}
	if sel.Refused {
		args = append(args, OK)
		or = append(or, fmt.Sprintf("outcome <> $%d", len(args)))
	}
	if len(or) == 0 {
		return nil, nil
	}
	q := `SELECT ` + recordColumns + ` FROM audit_log WHERE at >= $1 AND at < $2 AND (` + strings.Join(or, " OR ") +
		fmt.Sprintf(`) ORDER BY seq LIMIT %d`, max(limit, 1))
	rows, err := l.opts.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: records between: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func fmtAt(t time.Time) string { return t.UTC().Format(timeLayout) }
