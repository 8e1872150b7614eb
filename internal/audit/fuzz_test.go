package audit

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
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

// FuzzParseKey feeds arbitrary key files (what the vault or keys/audit.key
// holds, and keys/audit.pub) to the key readers: never a panic; a key
// ParseKey accepts signs what its verifier opens, and an error never
// echoes the signer line (it is the private key).
func FuzzParseKey(f *testing.F) {
	_, raw, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(strings.Fields(string(raw))[1]))
	f.Add([]byte("PRIVATE+KEY+phoenix-audit+00000000+AAAA\nphoenix-audit+00000000+AAAA\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err == nil {
			msg, serr := note.Sign(&note.Note{Text: "x\n"}, k.Signer)
			if serr != nil {
				t.Fatalf("accepted key cannot sign: %v", serr)
			}
			if _, oerr := note.Open(msg, note.VerifierList(k.Verifier)); oerr != nil {
				t.Fatalf("accepted key's verifier does not open its own note: %v", oerr)
			}
		} else if f := strings.Fields(string(b)); len(f) > 0 && strings.HasPrefix(f[0], "PRIVATE+KEY+") && strings.Contains(err.Error(), f[0]) {
			t.Fatalf("error shows the signer line: %v", err)
		}
		if v, err := ParseVerifier(string(b)); err == nil && v.Verifier == nil {
			t.Fatal("accepted verifier is nil")
		}
	})
}
