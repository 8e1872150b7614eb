package edge

import (
	"math/bits"
	"sync/atomic"
)

// recordRing is the bounded queue between the request path (many
// producers: the event loops and net/http's goroutines) and the access
// log's writer (one consumer): D. Vyukov's bounded MPMC queue with a
// single consumer. A producer claims a slot with one CAS, fills the
// record in place and publishes it with one atomic store; nothing locks,
// allocates or blocks. A full ring refuses the record.
type recordRing struct {
	slots []ringSlot
	mask  uint64
	_     [56]byte // keep tail off the slots' and head's cache lines
	tail  atomic.Uint64
	_     [56]byte
	head  atomic.Uint64 // the consumer's position (read by producers for the fill level)
}

type ringSlot struct {
	seq atomic.Uint64 // pos: free for position pos; pos+1: holds position pos's record
	rec accessRecord
}

// newRecordRing makes a ring of at least n slots (a power of two).
func newRecordRing(n int) *recordRing {
	size := uint64(1) << bits.Len(uint(max(n, 2)-1))
	r := &recordRing{slots: make([]ringSlot, size), mask: size - 1}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r
}

// claim reserves the next slot for a producer, which fills s.rec and
// then calls publish(s, pos). ok is false when the ring is full.
func (r *recordRing) claim() (s *ringSlot, pos uint64, ok bool) {
	for {
		pos = r.tail.Load()
		s = &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch {
		case seq == pos:
			if r.tail.CompareAndSwap(pos, pos+1) {
				return s, pos, true
			}
		case seq < pos:
			return nil, 0, false // full: the writer has not freed this slot yet
		}
		// another producer took pos: try the next one
	}
}

// publish hands the filled slot to the consumer and returns how many
// records wait for it.
func (r *recordRing) publish(s *ringSlot, pos uint64) (waiting uint64) {
	s.seq.Store(pos + 1)
	return pos + 1 - r.head.Load()
}

// next returns the oldest published record, nil when there is none (yet);
// the consumer calls release once done with it.
func (r *recordRing) next() *accessRecord {
	head := r.head.Load()
	s := &r.slots[head&r.mask]
	if s.seq.Load() != head+1 {
		return nil
	}
	return &s.rec
}

// release frees the slot next returned.
func (r *recordRing) release() {
	head := r.head.Load()
	r.slots[head&r.mask].seq.Store(head + r.mask + 1)
	r.head.Store(head + 1)
}
