package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/throttle"
)

// bucketsKeep is how long a bucket's row stays untouched before it is
// deleted. Every bucket is full again a minute after its last take (it
// gets all its tokens back in a minute), so it remembers nothing; the
// second minute is room for replicas whose clocks disagree, each writing
// updated_at by its own.
const bucketsKeep = 2 * time.Minute

// dbBuckets keeps the login buckets in the database (auth_login_buckets),
// for replicas sharing it: every replica takes from and gives to the same
// rows, so the limits hold for the deployment, not per replica. A take is
// one write transaction (the store serializes them on both engines, so
// concurrent attempts on any replica cannot both take a bucket's last
// token), and so is a give; a full bucket has no row.
type dbBuckets struct {
	db     *store.DB
	pruned atomic.Int64 // unix ns of this server's last prune of old rows
}

func (d *dbBuckets) take(ctx context.Context, now time.Time, limits []throttle.Limit) (int, error) {
	var first int
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := d.prune(ctx, tx, now); err != nil {
			return err
		}
		bs, err := loadBuckets(ctx, tx, now, limits)
		if err != nil {
			return err
		}
		if first, _ = throttle.TakeEach(now, bs...); first >= 0 {
			return nil // refused: nothing taken
		}
		return saveBuckets(ctx, tx, now, limits, bs)
	})
	if err != nil {
		return 0, fmt.Errorf("auth: take the sign-in limits' tokens: %w", err)
	}
	return first, nil
}

func (d *dbBuckets) give(ctx context.Context, now time.Time, limits []throttle.Limit) error {
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		bs, err := loadBuckets(ctx, tx, now, limits)
		if err != nil {
			return err
		}
		for _, b := range bs {
			b.Give(now)
		}
		return saveBuckets(ctx, tx, now, limits, bs)
	})
	if err != nil {
		return fmt.Errorf("auth: give back a sign-in limit's token: %w", err)
	}
	return nil
}

// prune deletes the rows untouched for bucketsKeep, at most once a
// minute per server: they are full buckets, which need no row.
func (d *dbBuckets) prune(ctx context.Context, tx *sql.Tx, now time.Time) error {
	last := d.pruned.Load()
	if now.UnixNano()-last < int64(time.Minute) || !d.pruned.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM auth_login_buckets WHERE updated_at < $1`, now.Add(-bucketsKeep).UnixNano())
	return err
}

// bucketKey is the row of a limit's bucket: the SHA-256 of its key,
// which holds a user name as typed (any bytes, not always UTF-8, which
// PostgreSQL's text refuses) and a NUL.
func bucketKey(l throttle.Limit) string {
	sum := sha256.Sum256([]byte(l.Key))
	return hex.EncodeToString(sum[:])
}

// loadBuckets reads the limits' buckets in one query; a bucket without a
// row, or whose row was kept for another size of limit, is full.
func loadBuckets(ctx context.Context, tx *sql.Tx, now time.Time, limits []throttle.Limit) ([]*throttle.Bucket, error) {
	bs := make([]*throttle.Bucket, len(limits))
	at := map[string]int{}
	args, marks := make([]any, len(limits)), make([]string, len(limits))
	for i, l := range limits {
		b := throttle.Full(l, now)
		bs[i] = &b
		at[bucketKey(l)] = i
		args[i], marks[i] = bucketKey(l), fmt.Sprintf("$%d", i+1)
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, tokens, per_minute, updated_at FROM auth_login_buckets
		WHERE key IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var b throttle.Bucket
		var updated int64
		if err := rows.Scan(&key, &b.Tokens, &b.PerMinute, &updated); err != nil {
			return nil, err
		}
		if i, ok := at[key]; ok && b.PerMinute == limits[i].PerMinute {
			b.At = time.Unix(0, updated)
			*bs[i] = b
		}
	}
	return bs, rows.Err()
}

// saveBuckets writes the buckets back: a full one by deleting its row.
func saveBuckets(ctx context.Context, tx *sql.Tx, now time.Time, limits []throttle.Limit, bs []*throttle.Bucket) error {
	for i, b := range bs {
		var err error
		if b.IsFull(now) {
			_, err = tx.ExecContext(ctx, `DELETE FROM auth_login_buckets WHERE key = $1`, bucketKey(limits[i]))
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO auth_login_buckets (key, tokens, per_minute, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, per_minute = excluded.per_minute, updated_at = excluded.updated_at`,
				bucketKey(limits[i]), b.Tokens, b.PerMinute, b.At.UnixNano())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
