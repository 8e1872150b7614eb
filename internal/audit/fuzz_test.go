package audit

import (
	"os"
	"testing"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzOpenCheckpoint feeds arbitrary notes to the checkpoint reader: it
// must never panic, and what it accepts must be signed by the key.
func FuzzOpenCheckpoint(f *testing.F) {
	l, _, key := newLog(f, 2)
	fill(f, l, 2)
	cps, _ := l.Checkpoints(ctx)
	for _, c := range cps {
		f.Add([]byte(c.Note))
	}
	f.Add([]byte("phoenix audit log\n1\nabc\n\n— x y\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := OpenCheckpoint(msg, key.Verifier)
		if err == nil && (h.Seq < 0 || len(h.Hash) != len(genesis)) {
			t.Fatalf("accepted a malformed head %+v", h)
		}
		parseCheckpointText(string(msg))
	})
}
