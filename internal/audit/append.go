package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Append records e in a transaction of its own.
func (l *Log) Append(ctx context.Context, e Event) (Record, error) {
	var r Record
	err := l.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = l.AppendTx(ctx, tx, e)
		return err
	})
	return r, err
}

// AppendTx records e inside tx: it commits with the caller's change or not
// at all. Write transactions are serialized by the store (SQLite takes
// the write lock at BEGIN), so reading the head here cannot race.
func (l *Log) AppendTx(ctx context.Context, tx *sql.Tx, e Event) (Record, error) {
	if e.Action == "" {
		return Record{}, errors.New("audit: event without an action")
	}
	m := MetaFrom(ctx)
	r := Record{At: l.opts.Now().UTC(), Actor: e.Actor, Auth: m.Auth, Action: e.Action, Target: e.Target,
		Source: m.Source, RequestID: m.RequestID, Outcome: e.Outcome, Detail: e.Detail}
	if r.Actor == "" {
		r.Actor = m.Actor
	}
	if r.Outcome == "" {
		r.Outcome = OK
	}
	head, err := headTx(ctx, tx)
	if err != nil {
		return Record{}, err
	}
	r.Seq, r.Prev = head.Seq+1, head.Hash
	r.Hash = ComputeHash(r)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, auth, action, target, source, request_id, outcome, detail, prev, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.Seq, r.At.Format(timeLayout), r.Actor, r.Auth, r.Action, r.Target, r.Source, r.RequestID, r.Outcome, r.Detail, r.Prev, r.Hash)
	if err != nil {
		return Record{}, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	if s, _ := l.keys(); s != nil && r.Seq%l.opts.CheckpointEvery == 0 {
		if _, err := l.checkpointTx(ctx, tx, s, Head{Seq: r.Seq, Hash: r.Hash}); err != nil {
			return Record{}, err
		}
	}
	return r, nil
}

// Head is the end of the chain: the last sequence number and its hash.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

func headTx(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (Head, error) {
	h := Head{Hash: genesis}
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{Hash: genesis}, nil
	}
	if err != nil {
		return h, fmt.Errorf("audit: read head: %w", err)
	}
	return h, nil
}

// Head returns the end of the chain.
func (l *Log) Head(ctx context.Context) (Head, error) { return headTx(ctx, l.opts.DB) }

// Holds reports whether the log still holds h: its record h.Seq has hash
// h.Hash.
func (l *Log) Holds(ctx context.Context, h Head) (bool, error) {
	var hash string
	err := l.opts.DB.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, h.Seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	return hash == h.Hash, nil
}

func (l *Log) now() string { return l.opts.Now().UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}
