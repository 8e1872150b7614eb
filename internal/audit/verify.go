package audit

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/mod/sumdb/note"
)

// Report is the verdict of Verify.
type Report struct {
	OK          bool  `json:"ok"`
	Records     int64 `json:"records"`
	Checkpoints int   `json:"checkpoints"`
	Head        Head  `json:"head"`
	// Signed is the newest sequence number a valid checkpoint covers;
	// records after it are protected by the chain alone until the next
	// checkpoint.
	Signed int64 `json:"signed_through"`
	// Unsigned counts the records after Signed: the tail no checkpoint
	// covers yet. Deferred says the log cannot sign now (its key is in a
	// sealed vault): the tail grows until the vault is unsealed, and the
	// first checkpoint after covers it.
	Unsigned int64 `json:"unsigned"`
	Deferred bool  `json:"checkpoints_deferred,omitempty"`
	// FirstBad is the first record that fails (0 when OK), and Problem
	// says what is wrong with it.
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

func (r *Report) fail(seq int64, format string, args ...any) {
	if !r.OK {
		return
	}
	r.OK, r.FirstBad, r.Problem = false, seq, fmt.Sprintf(format, args...)
}

// Verify recomputes the chain from the first record and checks every
// checkpoint's signature and head. It returns an error only when the log
// cannot be read; tampering is reported in the Report.
func (l *Log) Verify(ctx context.Context) (*Report, error) {
	rep := &Report{OK: true}
	cps, err := l.verifiedCheckpoints(ctx, rep)
	if err != nil {
		return nil, err
	}
	rows, err := l.opts.DB.QueryContext(ctx, `SELECT `+recordColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	signer, verifier := l.keys()
	anchor, where, err := l.anchor(verifier)
	if err != nil {
		return nil, err
	}
	w := walker{rep: rep, cps: cps, every: l.opts.CheckpointEvery, prev: Head{Hash: genesis}, anchor: anchor, where: where}
	if verifier != nil {
		// Periodic checkpoints must exist up to the newest one; after it
		// only while the log signs (else they are deferred, not deleted).
		for seq := range cps {
			w.needThrough = max(w.needThrough, seq)
		}
		if signer != nil {
			w.needThrough = math.MaxInt64
		}
	}
	for rows.Next() && rep.OK {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: verify: %w", err)
		}
		w.check(r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	if anchor.Seq > w.prev.Seq {
		rep.fail(w.prev.Seq+1, "record %d is missing: the checkpoint kept outside the database (%s) covers %d records but the log ends at %d (records and their checkpoints were deleted from the end)",
			w.prev.Seq+1, where, anchor.Seq, w.prev.Seq)
	}
	rep.Head = w.prev
	rep.Unsigned, rep.Deferred = w.prev.Seq-rep.Signed, signer == nil
	var last int64
	for seq := range cps {
		last = max(last, seq)
	}
	if last > w.prev.Seq {
		rep.fail(w.prev.Seq+1, "record %d is missing: a signed checkpoint covers %d records but the log ends at %d (records were deleted from the end)",
			w.prev.Seq+1, last, w.prev.Seq)
	}
	return rep, nil
}

// verifiedCheckpoints returns the checkpoints whose signature is valid and
// whose note matches their row, failing rep on the first that is not.
func (l *Log) verifiedCheckpoints(ctx context.Context, rep *Report) (map[int64]Head, error) {
	all, err := l.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]Head{}
	for _, c := range all {
		rep.Checkpoints++
		v := l.Verifier()
		if v == nil {
			continue
		}
		h, err := OpenCheckpoint([]byte(c.Note), v)
		if err != nil || h != c.Head {
			rep.fail(c.Seq, "checkpoint at record %d does not verify with the audit key (forged or edited checkpoint)", c.Seq)
			continue
		}
		out[h.Seq] = h
	}
	return out, nil
}

// walker checks records one by one against the chain and checkpoints.
type walker struct {
	rep   *Report
	cps   map[int64]Head
	every int64
	// needThrough is the last sequence whose periodic checkpoint (every
	// every-th record) must exist.
	needThrough int64
	prev        Head
	signed      int64 // last checkpointed sequence seen
	// anchor is the checkpoint kept outside the database (zero: none),
	// where says where it is.
	anchor Head
	where  string
}

// anchor returns the head of Options.Anchor's checkpoint and where it is
// kept. None, or one the verifier does not verify (another key's, from
// before a key change), is the zero Head: there is nothing to compare.
func (l *Log) anchor(v note.Verifier) (Head, string, error) {
	if l.opts.Anchor == nil || v == nil {
		return Head{}, "", nil
	}
	b, where, err := l.opts.Anchor()
	if err != nil || b == nil {
		return Head{}, where, err
	}
	h, err := OpenCheckpoint(b, v)
	if err != nil {
		return Head{}, where, nil
	}
	return h, where, nil
}

func (w *walker) check(r Record) {
	rep := w.rep
	want := w.prev.Seq + 1
	switch {
	case r.Seq > want:
		rep.fail(want, "record %d is missing: the log jumps from %d to %d (deleted)", want, w.prev.Seq, r.Seq)
	case r.Seq < want:
		rep.fail(r.Seq, "record %d is out of order", r.Seq)
	case r.Prev != w.prev.Hash:
		rep.fail(r.Seq, "record %d does not follow record %d: its prev hash differs (a record was inserted, deleted or reordered here, or record %d was rewritten)",
			r.Seq, w.prev.Seq, w.prev.Seq)
	case ComputeHash(r) != r.Hash:
		rep.fail(r.Seq, "record %d was edited: its contents do not match its hash", r.Seq)
	}
	if !rep.OK {
		return
	}
	if w.anchor.Seq == r.Seq && w.anchor.Hash != r.Hash {
		rep.fail(w.signed+1, "records %d to %d differ from the checkpoint kept outside the database (%s) at %d (records were deleted or altered, and the chain recomputed)",
			w.signed+1, r.Seq, w.where, r.Seq)
		return
	}
	if cp, ok := w.cps[r.Seq]; ok {
		if cp.Hash != r.Hash {
			rep.fail(w.signed+1, "records %d to %d differ from the signed checkpoint at %d (a record was altered and the chain recomputed)",
				w.signed+1, r.Seq, r.Seq)
			return
		}
		w.signed, rep.Signed = r.Seq, r.Seq
	} else if r.Seq <= w.needThrough && r.Seq%w.every == 0 {
		rep.fail(r.Seq, "the signed checkpoint at record %d is missing (checkpoints were deleted)", r.Seq)
		return
	}
	rep.Records++
	w.prev = Head{Seq: r.Seq, Hash: r.Hash}
}
