package monitor

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("monitor", migrationFiles)
}

// Resolutions and how long each is kept.
const (
	ResRaw    = 0
	ResMinute = 60
	ResHour   = 3600
)

// Retention of each resolution.
var Retention = map[int]time.Duration{
	ResRaw:    48 * time.Hour,
	ResMinute: 30 * 24 * time.Hour,
	ResHour:   400 * 24 * time.Hour,
}

// Point is one observation or aggregate of a series.
type Point struct {
	Series string
	Time   time.Time
	Agg
}

// Agg aggregates points: N events, Good of them good, the sum, min and max
// of their values.
type Agg struct {
	N, Good       int64
	Sum, Min, Max float64
}

// Merge adds b to a.
func (a *Agg) Merge(b Agg) {
	if b.N == 0 {
		return
	}
	if a.N == 0 {
		*a = b
		return
	}
	a.N += b.N
	a.Good += b.Good
	a.Sum += b.Sum
	a.Min = min(a.Min, b.Min)
	a.Max = max(a.Max, b.Max)
}

// Avg is the mean value, 0 without data.
func (a Agg) Avg() float64 {
	if a.N == 0 {
		return 0
	}
	return a.Sum / float64(a.N)
}

// Availability is the percentage of good events, 100 without data.
func (a Agg) Availability() float64 {
	if a.N == 0 {
		return 100
	}
	return 100 * float64(a.Good) / float64(a.N)
}

// Store keeps metrics in the database. Add buffers; Flush writes the raw
// points and folds them into the minute and hour rollups in one
// transaction, so every resolution is current after each flush.
type Store struct {
	db  *store.DB
	now func() time.Time
	mu  sync.Mutex
	buf []Point
}

// NewStore returns a Store over db (migrated with Migrations).
func NewStore(db *store.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// Add buffers p until the next Flush.
func (s *Store) Add(p Point) {
	s.mu.Lock()
	s.buf = append(s.buf, p)
	s.mu.Unlock()
}

type bucketKey struct {
	series string
	res    int
	ts     int64
}

// Flush writes buffered points.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	buf := s.buf
	s.buf = nil
	s.mu.Unlock()
	if len(buf) == 0 {
		return nil
	}
	buckets := map[bucketKey]Agg{}
	for _, p := range buf {
		ms := p.Time.UnixMilli()
		for _, res := range []int{ResRaw, ResMinute, ResHour} {
			k := bucketKey{p.Series, res, ms}
			if res > 0 {
				step := int64(res) * 1000
				k.ts = ms - ((ms%step)+step)%step
			}
			a := buckets[k]
			a.Merge(p.Agg)
			buckets[k] = a
		}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO monitor_points (series, res, ts, n, good, sum, min, max)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (series, res, ts) DO UPDATE SET n = monitor_points.n + excluded.n,
			  good = monitor_points.good + excluded.good, sum = monitor_points.sum + excluded.sum,
			  min = CASE WHEN excluded.min < monitor_points.min THEN excluded.min ELSE monitor_points.min END,
			  max = CASE WHEN excluded.max > monitor_points.max THEN excluded.max ELSE monitor_points.max END`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, a := range buckets {
			if _, err := stmt.ExecContext(ctx, k.series, k.res, k.ts, a.N, a.Good, a.Sum, a.Min, a.Max); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("monitor: write %d points: %w", len(buf), err)
	}
	return nil
}

// resolutionFor picks the finest resolution still kept at from.
func (s *Store) resolutionFor(from time.Time) int {
	age := s.now().Sub(from)
	switch {
	case age <= Retention[ResRaw]:
		return ResRaw
	case age <= Retention[ResMinute]:
		return ResMinute
	}
	return ResHour
}

// Query aggregates the series whose name starts with prefix over [from,
// to), per series. It reads the finest resolution kept for from; rollup
// buckets count when they start in the range.
func (s *Store) Query(ctx context.Context, prefix string, from, to time.Time) (map[string]Agg, error) {
	res := s.resolutionFor(from)
	lo := from.UnixMilli()
	if res > 0 {
		step := int64(res) * 1000
		lo -= ((lo % step) + step) % step
	}
	// Series under prefix sort below prefix+U+10FFFF byte by byte: the
	// largest code point, still valid UTF-8 (PostgreSQL refuses \xff in text).
	rows, err := s.db.QueryContext(ctx, `SELECT series, SUM(n), SUM(good), SUM(sum), MIN(min), MAX(max) FROM monitor_points
		WHERE res = $1 AND series >= $2 AND series < $3 AND ts >= $4 AND ts < $5 GROUP BY series`,
		res, prefix, prefix+"\U0010FFFF", lo, to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("monitor: query %s: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string]Agg{}
	for rows.Next() {
		var series string
		var a Agg
		if err := rows.Scan(&series, &a.N, &a.Good, &a.Sum, &a.Min, &a.Max); err != nil {
			return nil, err
		}
		out[series] = a
	}
	return out, rows.Err()
}

// Total aggregates every series under prefix over [from, to).
func (s *Store) Total(ctx context.Context, prefix string, from, to time.Time) (Agg, error) {
	per, err := s.Query(ctx, prefix, from, to)
	var total Agg
	for _, a := range per {
		total.Merge(a)
	}
	return total, err
}

// First returns when the series under prefix were first observed, zero
// when they never were (or their points have aged out of every
// resolution): the earliest hourly bucket, narrowed to the earliest
// finer point within it that is still kept.
func (s *Store) First(ctx context.Context, prefix string) (time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT res, MIN(ts) FROM monitor_points
		WHERE series >= $1 AND series < $2 GROUP BY res`, prefix, prefix+"\U0010FFFF")
	if err != nil {
		return time.Time{}, fmt.Errorf("monitor: first point of %s: %w", prefix, err)
	}
	defer rows.Close()
	first := map[int]int64{}
	for rows.Next() {
		var res int
		var ts int64
		if err := rows.Scan(&res, &ts); err != nil {
			return time.Time{}, err
		}
		first[res] = ts
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, err
	}
	hour, ok := first[ResHour]
	if !ok {
		return time.Time{}, nil
	}
	at := hour
	for _, res := range []int{ResMinute, ResRaw} {
		if ts, ok := first[res]; ok && ts < hour+ResHour*1000 {
			at = ts
		}
	}
	return time.UnixMilli(at).UTC(), nil
}

// Buckets returns the series' aggregates in consecutive steps from from
// to to (for uptime bars); missing steps have N == 0.
func (s *Store) Buckets(ctx context.Context, series string, from, to time.Time, step time.Duration) ([]Agg, error) {
	n := int(to.Sub(from) / step)
	if n <= 0 || n > 10000 {
		return nil, fmt.Errorf("monitor: %d buckets asked for; use a larger step", n)
	}
	res := s.resolutionFor(from)
	rows, err := s.db.QueryContext(ctx, `SELECT ts, n, good, sum, min, max FROM monitor_points
		WHERE res = $1 AND series = $2 AND ts >= $3 AND ts < $4`, res, series, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("monitor: buckets of %s: %w", series, err)
	}
	defer rows.Close()
	out := make([]Agg, n)
	for rows.Next() {
		var ts int64
		var a Agg
		if err := rows.Scan(&ts, &a.N, &a.Good, &a.Sum, &a.Min, &a.Max); err != nil {
			return nil, err
		}
		if i := int((ts - from.UnixMilli()) / step.Milliseconds()); i >= 0 && i < n {
			out[i].Merge(a)
		}
	}
	return out, rows.Err()
}

// Prune deletes points older than their resolution's retention.
func (s *Store) Prune(ctx context.Context) error {
	now := s.now()
	for res, keep := range Retention {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM monitor_points WHERE res = $1 AND ts < $2`,
			res, now.Add(-keep).UnixMilli()); err != nil {
			return fmt.Errorf("monitor: prune: %w", err)
		}
	}
	return nil
}
