package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// ErrNoSigner is returned by Checkpoint while the log has no signer (its
// key is in a sealed vault): records are chained, checkpoints deferred.
var ErrNoSigner = errors.New("audit: checkpoints deferred: no signing key yet")

// SetKey gives the log its checkpoint key, e.g. once the vault holding it
// is unsealed, and signs the head. With backfill, the records written
// without a signer are covered as well: every periodic checkpoint missed
// after the newest one is signed (before the signer is installed, and
// once more after, for records appended in between). The log cannot tell
// a deferred checkpoint from a deleted one: the caller backfills only when
// it knows no checkpoint was deleted (the app keeps the newest it saw
// outside the database). A key refused (the tail does not follow the
// newest checkpoint, or the checkpoint does not verify with it) leaves the
// log with the keys it had.
func (l *Log) SetKey(ctx context.Context, k Key, backfill bool) error {
	if k.Signer == nil || k.Verifier == nil {
		return errors.New("audit: SetKey needs a signer and its verifier")
	}
	if backfill {
		if _, err := l.checkpointWith(ctx, k.Signer, k.Verifier, true); err != nil {
			return err
		}
	}
	l.mu.Lock()
	oldS, oldV := l.signer, l.verifier
	l.signer, l.verifier = k.Signer, k.Verifier
	l.mu.Unlock()
	if _, err := l.checkpointWith(ctx, k.Signer, k.Verifier, backfill); err != nil {
		// A key refused here must not sign the periodic checkpoints of
		// the records that come next.
		l.mu.Lock()
		l.signer, l.verifier = oldS, oldV
		l.mu.Unlock()
		return err
	}
	return nil
}

// Signing reports whether the log can sign checkpoints now.
func (l *Log) Signing() bool {
	s, _ := l.keys()
	return s != nil
}

// Verifier is the key checkpoints are checked with (nil when unknown).
func (l *Log) Verifier() note.Verifier {
	_, v := l.keys()
	return v
}

func (l *Log) keys() (note.Signer, note.Verifier) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.signer, l.verifier
}

// tailTx checks the records after the newest checkpoint: that the
// checkpoint verifies, and that each record follows the one before with
// an intact hash. It returns the records that should carry a periodic
// checkpoint (every CheckpointEvery-th) but do not, oldest first, and the
// head. A broken tail is never signed: that would bless a rewrite made
// while no checkpoint was written.
func (l *Log) tailTx(ctx context.Context, tx *sql.Tx, v note.Verifier) ([]Head, Head, error) {
	from := Head{Hash: genesis}
	var msg string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash, note FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&from.Seq, &from.Hash, &msg)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, from, fmt.Errorf("audit: read the newest checkpoint: %w", err)
	}
	if err == nil && v != nil {
		if h, err := OpenCheckpoint([]byte(msg), v); err != nil || h != from {
			return nil, from, fmt.Errorf("audit: will not sign: the checkpoint at record %d does not verify with the audit key; run phoenix audit verify", from.Seq)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+` FROM audit_log WHERE seq > $1 ORDER BY seq`, from.Seq)
	if err != nil {
		return nil, from, fmt.Errorf("audit: read the unsigned records: %w", err)
	}
	defer rows.Close()
	var missed []Head
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, from, err
		}
		if r.Seq != from.Seq+1 || r.Prev != from.Hash || ComputeHash(r) != r.Hash {
			return nil, from, fmt.Errorf("audit: will not sign: record %d does not follow the chain from the newest checkpoint; run phoenix audit verify", from.Seq+1)
		}
		from = Head{Seq: r.Seq, Hash: r.Hash}
		if r.Seq%l.opts.CheckpointEvery == 0 {
			missed = append(missed, from)
		}
	}
	return missed, from, rows.Err()
}
