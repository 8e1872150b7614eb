package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a signed statement of the chain head.
type Checkpoint struct {
	Head
	At   string `json:"at"`
	Note string `json:"note"` // the signed note, verifiable with the verifier key
}

const checkpointHeader = "phoenix audit log"

func checkpointText(h Head) string {
	return fmt.Sprintf("%s\n%d\n%s\n", checkpointHeader, h.Seq, h.Hash)
}

// parseCheckpointText is the inverse of checkpointText.
func parseCheckpointText(text string) (Head, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 3 || lines[0] != checkpointHeader {
		return Head{}, errors.New("not a phoenix audit checkpoint")
	}
	seq, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || seq < 0 {
		return Head{}, fmt.Errorf("checkpoint size %q is not a count", lines[1])
	}
	if len(lines[2]) != len(genesis) {
		return Head{}, fmt.Errorf("checkpoint hash %q is malformed", lines[2])
	}
	return Head{Seq: seq, Hash: lines[2]}, nil
}

// Checkpoint signs the current head unless it is already checkpointed,
// after checking that the records since the newest checkpoint follow it
// (a broken tail is never signed). The app calls it periodically and at
// shutdown. It returns the latest checkpoint (nil when the log is empty),
// or ErrNoSigner.
func (l *Log) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	s, v := l.keys()
	if s == nil {
		return nil, ErrNoSigner
	}
	return l.checkpointWith(ctx, s, v, false)
}

// checkpointWith signs the head with s, and with backfill also every
// periodic checkpoint missing after the newest one.
func (l *Log) checkpointWith(ctx context.Context, s note.Signer, v note.Verifier, backfill bool) (*Checkpoint, error) {
	var cp *Checkpoint
	err := l.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		missed, h, err := l.tailTx(ctx, tx, v)
		if err != nil || h.Seq == 0 {
			return err
		}
		if !backfill {
			missed = nil
		}
		for _, m := range append(missed, h) {
			if cp, err = l.checkpointTx(ctx, tx, s, m); err != nil {
				return err
			}
		}
		return nil
	})
	return cp, err
}

// NewestCheckpoint returns the stored checkpoint with the highest
// sequence, or nil when there is none.
func (l *Log) NewestCheckpoint(ctx context.Context) (*Checkpoint, error) {
	var c Checkpoint
	err := l.opts.DB.QueryRowContext(ctx, `SELECT seq, hash, note, at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&c.Seq, &c.Hash, &c.Note, &c.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: newest checkpoint: %w", err)
	}
	return &c, nil
}

func (l *Log) checkpointTx(ctx context.Context, tx *sql.Tx, s note.Signer, h Head) (*Checkpoint, error) {
	msg, err := note.Sign(&note.Note{Text: checkpointText(h)}, s)
	if err != nil {
		return nil, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	cp := &Checkpoint{Head: h, At: l.now(), Note: string(msg)}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, note, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (seq) DO NOTHING`, h.Seq, h.Hash, cp.Note, cp.At)
	if err != nil {
		return nil, fmt.Errorf("audit: record checkpoint: %w", err)
	}
	return cp, nil
}

// Checkpoints lists the stored checkpoints, oldest first.
func (l *Log) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := l.opts.DB.QueryContext(ctx, `SELECT seq, hash, note, at FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit: list checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		if err := rows.Scan(&c.Seq, &c.Hash, &c.Note, &c.At); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OpenCheckpoint verifies a signed checkpoint note with v and returns the
// head it states.
func OpenCheckpoint(msg []byte, v note.Verifier) (Head, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Head{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	return parseCheckpointText(n.Text)
}
