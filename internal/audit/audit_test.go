package audit

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

var ctx = context.Background()

func newLog(t testing.TB, every int64) (*Log, *store.DB, Key) {
	t.Helper()
	dir := t.TempDir()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	key, err := LoadKey(filepath.Join(dir, "keys", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	l := New(Options{DB: db, Signer: key.Signer, Verifier: key.Verifier, CheckpointEvery: every,
		Now: func() time.Time { now = now.Add(time.Second); return now }})
	return l, db, key
}

func fill(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		actor := []string{"alice", "bob"}[i%2]
		c := WithMeta(ctx, Meta{Actor: actor, Source: "10.0.0.1:5000", RequestID: fmt.Sprintf("req%d", i)})
		if _, err := l.Append(c, Event{Action: []string{"deploy.activate", "deploy.rollback", "auth.login"}[i%3], Target: "shop/production"}); err != nil {
			t.Fatal(err)
		}
	}
}

func mustExec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyIntactLog(t *testing.T) {
	l, _, _ := newLog(t, 4)
	fill(t, l, 10)
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Records != 10 || rep.Signed != 10 || rep.Checkpoints != 3 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestVerifyNamesTheFirstBadRecord(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, l *Log, db *store.DB)
		bad    int64
		says   string
	}{
		{"edited actor", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 5`)
		}, 5, "edited"},
		{"edited outcome", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 3`)
			mustExec(t, db, `UPDATE audit_log SET detail = 'x' WHERE seq = 7`)
		}, 3, "edited"},
		{"deleted in the middle", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE seq = 6`)
		}, 6, "missing"},
		{"deleted first", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE seq = 1`)
		}, 1, "missing"},
		{"deleted at the end", func(t *testing.T, l *Log, db *store.DB) {
			if _, err := l.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, `DELETE FROM audit_log WHERE seq >= 9`)
		}, 9, "deleted from the end"},
		{"inserted", func(t *testing.T, l *Log, db *store.DB) {
			for s := 10; s >= 4; s-- {
				mustExec(t, db, `UPDATE audit_log SET seq = seq + 1 WHERE seq = $1`, s)
			}
			mustExec(t, db, `INSERT INTO audit_log (seq, at, action, outcome, prev, hash) SELECT 4, at, 'user.add', 'ok', hash, hash FROM audit_log WHERE seq = 3`)
		}, 4, ""},
		{"inserted with a valid hash", func(t *testing.T, l *Log, db *store.DB) {
			for s := 10; s >= 6; s-- {
				mustExec(t, db, `UPDATE audit_log SET seq = seq + 1 WHERE seq = $1`, s)
			}
			var prev string
			db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = 5`).Scan(&prev)
			r := Record{Seq: 6, At: time.Now().UTC(), Action: "user.add", Outcome: OK, Prev: prev}
			r.Hash = ComputeHash(r)
			mustExec(t, db, `INSERT INTO audit_log (seq, at, action, outcome, prev, hash) VALUES (6, $1, $2, $3, $4, $5)`,
				r.At.Format(timeLayout), r.Action, r.Outcome, r.Prev, r.Hash)
		}, 7, "record 7"},
		{"inserted at a checkpoint", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE seq > 4`)
			mustExec(t, db, `UPDATE audit_log SET seq = 5 WHERE seq = 4`)
			var prev string
			db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = 3`).Scan(&prev)
			r := Record{Seq: 4, At: time.Now().UTC(), Action: "user.add", Outcome: OK, Prev: prev}
			r.Hash = ComputeHash(r)
			mustExec(t, db, `INSERT INTO audit_log (seq, at, action, outcome, prev, hash) VALUES (4, $1, $2, $3, $4, $5)`,
				r.At.Format(timeLayout), r.Action, r.Outcome, r.Prev, r.Hash)
		}, 1, "records 1 to 4 differ from the signed checkpoint"},
		{"reordered", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `UPDATE audit_log SET seq = 100 WHERE seq = 3`)
			mustExec(t, db, `UPDATE audit_log SET seq = 3 WHERE seq = 2`)
			mustExec(t, db, `UPDATE audit_log SET seq = 2 WHERE seq = 100`)
		}, 2, ""},
		{"chain recomputed after an edit", func(t *testing.T, l *Log, db *store.DB) {
			rewriteFrom(t, db, 6, func(r *Record) { r.Actor = "mallory" })
		}, 5, "signed checkpoint"},
		{"checkpoint deleted", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE seq >= 5`)
			mustExec(t, db, `DELETE FROM audit_checkpoints`)
			rewriteFrom(t, db, 1, func(r *Record) {})
			fill(t, l, 0)
			mustExec(t, db, `INSERT INTO audit_log SELECT seq + 4, at, actor, auth, action, target, source, request_id, outcome, detail, prev, hash FROM audit_log WHERE seq <= 4`)
			rewriteFrom(t, db, 5, func(r *Record) {})
		}, 4, "checkpoint at record 4 is missing"},
		{"forged checkpoint", func(t *testing.T, l *Log, db *store.DB) {
			mustExec(t, db, `UPDATE audit_checkpoints SET hash = $1 WHERE seq = 8`, genesis)
		}, 8, "does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, db, _ := newLog(t, 4)
			fill(t, l, 10)
			c.tamper(t, l, db)
			rep, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.FirstBad != c.bad || !strings.Contains(rep.Problem, c.says) {
				t.Fatalf("report = %+v, want first bad %d saying %q", rep, c.bad, c.says)
			}
		})
	}
}

// rewriteFrom changes records from seq on with fn and recomputes the
// chain after them, as an attacker with write access to the database would.
func rewriteFrom(t *testing.T, db *store.DB, seq int64, fn func(*Record)) {
	t.Helper()
	var prev string
	if err := db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, seq-1).Scan(&prev); errors.Is(err, sql.ErrNoRows) {
		prev = genesis
	}
	rows, _ := db.QueryContext(ctx, `SELECT `+recordColumns+` FROM audit_log WHERE seq >= $1 ORDER BY seq`, seq)
	var rs []Record
	for rows.Next() {
		r, _ := scanRecord(rows)
		rs = append(rs, r)
	}
	rows.Close()
	for _, r := range rs {
		fn(&r)
		r.Prev = prev
		r.Hash = ComputeHash(r)
		prev = r.Hash
		mustExec(t, db, `UPDATE audit_log SET actor = $1, prev = $2, hash = $3 WHERE seq = $4`, r.Actor, r.Prev, r.Hash, r.Seq)
	}
}

func TestAppendTxRollsBackWithTheAction(t *testing.T) {
	l, db, _ := newLog(t, 256)
	boom := errors.New("the action failed")
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := l.AppendTx(ctx, tx, Event{Action: "deploy.activate"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if h, _ := l.Head(ctx); h.Seq != 0 {
		t.Fatalf("a record survived its rolled-back action: %+v", h)
	}
	mustExec(t, db, `DROP TABLE audit_log`)
	if _, err := l.Append(ctx, Event{Action: "x"}); err == nil {
		t.Fatal("append to a broken log succeeded")
	}
}

func TestQueryAndExport(t *testing.T) {
	l, _, _ := newLog(t, 256)
	fill(t, l, 12)
	all, _ := l.Query(ctx, Filter{})
	cases := []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, 12},
		{"actor", Filter{Actor: "alice"}, 6},
		{"action", Filter{Action: "auth.login"}, 4},
		{"action prefix", Filter{Action: "deploy.*"}, 8},
		{"since", Filter{Since: all[9].At}, 3},
		{"page", Filter{After: 5, Limit: 4}, 4},
		{"newest page", Filter{Newest: true, Before: 5, Limit: 10}, 4},
		{"actor and action", Filter{Actor: "bob", Action: "deploy.*"}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := l.Query(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Fatalf("got %d records (%v), want %d", len(got), err, c.want)
			}
		})
	}
	newest, _ := l.Query(ctx, Filter{Newest: true, Limit: 3})
	if len(newest) != 3 || newest[0].Seq != all[11].Seq || newest[2].Seq != all[9].Seq {
		t.Fatalf("newest first: %+v", newest)
	}
	var buf bytes.Buffer
	if err := l.Export(ctx, &buf, Filter{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Actor != "bob" || r.RequestID == "" || r.Source == "" {
			t.Fatalf("line %d: %q (%v)", n, sc.Text(), err)
		}
		if ComputeHash(r) != r.Hash {
			t.Fatalf("exported record %d does not hash to its hash", r.Seq)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("exported %d lines", n)
	}
}

func TestLoadKeyReusesAndRejectsMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.key")
	k1, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(path)
	if err != nil || k2.VerifierKey != k1.VerifierKey {
		t.Fatalf("reload: %v", err)
	}
	other, _ := LoadKey(filepath.Join(t.TempDir(), "other.key"))
	skey := strings.Fields(string(mustRead(t, path)))[0]
	if _, err := parseKey(skey, other.VerifierKey); err == nil {
		t.Fatal("mismatched keys accepted")
	}
	if strings.Contains(fmt.Sprint(parseKey("PRIVATE+KEY+bad", other.VerifierKey)), "bad") {
		t.Fatal("key material in error")
	}
}
