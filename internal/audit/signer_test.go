package audit

import (
	"errors"
	"strings"
	"testing"
)

// sealedLog is a second Log on l's database that knows the verifier but
// not the signer, as a server whose key is in a sealed vault.
func sealedLog(l *Log, key Key) *Log {
	o := l.opts
	o.Signer, o.Verifier = nil, key.Verifier
	return New(o)
}

// TestDeferredCheckpointsAreCoveredBySetKey: without a signer the log
// keeps chaining, Checkpoint says it is deferred, Verify reports the
// unsigned tail; SetKey signs the head and every missed periodic
// checkpoint, and the strict verification of a signing log passes.
func TestDeferredCheckpointsAreCoveredBySetKey(t *testing.T) {
	signing, db, key := newLog(t, 4)
	fill(t, signing, 5)
	if _, err := signing.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	l := sealedLog(signing, key)
	fill(t, l, 6) // records 6 to 11: the periodic checkpoint at 8 is deferred
	if _, err := l.Checkpoint(ctx); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("checkpoint without a signer: %v", err)
	}
	if l.Signing() {
		t.Fatal("a log without a signer says it signs")
	}
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK || rep.Signed != 5 || rep.Unsigned != 6 || !rep.Deferred || rep.Records != 11 {
		t.Fatalf("sealed verify = %+v, %v", rep, err)
	}
	if err := l.SetKey(ctx, key, true); err != nil {
		t.Fatal(err)
	}
	var at8 int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_checkpoints WHERE seq = 8`).Scan(&at8); err != nil || at8 != 1 {
		t.Fatalf("the missed checkpoint at 8 was not signed: %d, %v", at8, err)
	}
	for _, log := range []*Log{l, signing} {
		rep, err := log.Verify(ctx)
		if err != nil || !rep.OK || rep.Signed != 11 || rep.Unsigned != 0 || rep.Deferred {
			t.Fatalf("verify after SetKey = %+v, %v", rep, err)
		}
	}
	fill(t, l, 2) // signs again as it appends: the checkpoint at 12, then 13 unsigned
	if rep, err := l.Verify(ctx); err != nil || !rep.OK || rep.Signed != 12 || rep.Unsigned != 1 {
		t.Fatalf("verify after one more record = %+v, %v", rep, err)
	}
}

// TestSetKeyRefusesToSignARewrittenTail: records rewritten (chain
// recomputed) while no checkpoint could be written are not blessed by the
// checkpoint after unseal, nor by a periodic one after (the refused key
// is not kept), and Verify names them.
func TestSetKeyRefusesToSignARewrittenTail(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, l *Log)
		says   string
	}{
		{"edited without recomputing", func(t *testing.T, l *Log) {
			mustExec(t, l.opts.DB, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`)
		}, "record 7 does not follow"},
		{"checkpoint forged", func(t *testing.T, l *Log) {
			mustExec(t, l.opts.DB, `UPDATE audit_checkpoints SET note = 'x' WHERE seq = 5`)
		}, "checkpoint at record 5 does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signing, db, key := newLog(t, 4)
			fill(t, signing, 5)
			if _, err := signing.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			l := sealedLog(signing, key)
			fill(t, l, 4)
			c.tamper(t, l)
			for _, backfill := range []bool{true, false} {
				err := l.SetKey(ctx, key, backfill)
				if err == nil || !strings.Contains(err.Error(), c.says) {
					t.Fatalf("SetKey (backfill %v) over a tampered tail: %v, want %q", backfill, err, c.says)
				}
				if l.Signing() {
					t.Fatalf("SetKey (backfill %v) refused the key but left it signing", backfill)
				}
			}
			fill(t, l, 4) // past a periodic checkpoint: nothing signs it
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_checkpoints WHERE seq > 5`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d checkpoints signed over the tampered tail (%v)", n, err)
			}
			if rep, err := l.Verify(ctx); err != nil || rep.OK {
				t.Fatalf("verify of a tampered tail = %+v, %v", rep, err)
			}
		})
	}
}

// TestVerifyWithoutSignerStillWantsCheckpointsBeforeTheNewest: deferral
// only excuses the tail; a periodic checkpoint deleted before the newest
// one is tampering even for a log that cannot sign.
func TestVerifyWithoutSignerStillWantsCheckpointsBeforeTheNewest(t *testing.T) {
	signing, db, key := newLog(t, 4)
	fill(t, signing, 10)
	if _, err := signing.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `DELETE FROM audit_checkpoints WHERE seq = 4`)
	rep, err := sealedLog(signing, key).Verify(ctx)
	if err != nil || rep.OK || rep.FirstBad != 4 || !strings.Contains(rep.Problem, "checkpoint at record 4 is missing") {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	k, raw, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(raw)
	if err != nil || back.VerifierKey != k.VerifierKey {
		t.Fatalf("ParseKey(GenerateKey) = %v, %v", back.VerifierKey, err)
	}
	pub, err := ParseVerifier(k.VerifierKey + "\n")
	if err != nil || pub.Verifier.KeyHash() != k.Verifier.KeyHash() || pub.Signer != nil {
		t.Fatalf("ParseVerifier = %+v, %v", pub, err)
	}
	for _, bad := range []string{"", "one", "a b c", raw2(k)} {
		if _, err := ParseKey([]byte(bad)); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := ParseVerifier("not a key"); err == nil {
		t.Error("ParseVerifier accepted garbage")
	}
}

// raw2 is a verifier key twice: two lines, but no signer.
func raw2(k Key) string { return k.VerifierKey + "\n" + k.VerifierKey }

// TestNoBackfillOverDeletedCheckpoints: checkpoints deleted and the chain
// rewritten after the last one left: neither the periodic Checkpoint nor
// a SetKey told not to backfill signs the missing periodic checkpoints,
// so a log that signs still reports them missing.
func TestNoBackfillOverDeletedCheckpoints(t *testing.T) {
	for _, setKey := range []bool{false, true} {
		signing, db, key := newLog(t, 4)
		fill(t, signing, 10)
		if _, err := signing.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `DELETE FROM audit_checkpoints WHERE seq > 4`)
		rewriteFrom(t, db, 6, func(r *Record) { r.Actor = "mallory" })
		l := signing
		if setKey {
			l = sealedLog(signing, key)
			if err := l.SetKey(ctx, key, false); err != nil {
				t.Fatal(err)
			}
		} else if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := l.Verify(ctx)
		if err != nil || rep.OK || rep.FirstBad != 8 || !strings.Contains(rep.Problem, "checkpoint at record 8 is missing") {
			t.Fatalf("SetKey %v: verify = %+v, %v", setKey, rep, err)
		}
	}
}

func TestNewestCheckpoint(t *testing.T) {
	l, _, _ := newLog(t, 4)
	if cp, err := l.NewestCheckpoint(ctx); err != nil || cp != nil {
		t.Fatalf("empty log: %+v, %v", cp, err)
	}
	fill(t, l, 6)
	if cp, err := l.NewestCheckpoint(ctx); err != nil || cp == nil || cp.Seq != 4 {
		t.Fatalf("newest = %+v, %v", cp, err)
	}
}
