package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretRedacts(t *testing.T) {
	const val = "hunter2-value"
	s := SecretString(val)
	type wrapper struct {
		Public  Secret
		private Secret
		Ptr     *Secret
	}
	w := wrapper{Public: s, private: s, Ptr: &s}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s, "w", w)
	js, _ := json.Marshal(w)
	txt, _ := s.MarshalText()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s),
		"%x": fmt.Sprintf("%x", s), "%X": fmt.Sprintf("%X", s), "%d": fmt.Sprintf("%d", s),
		"%#v": fmt.Sprintf("%#v", s), "%+v": fmt.Sprintf("%+v", s),
		"struct %v": fmt.Sprintf("%v", w), "struct %+v": fmt.Sprintf("%+v", w), "struct %#v": fmt.Sprintf("%#v", w),
		"Sprint": fmt.Sprint(s, w), "JSON": string(js), "text": string(txt), "slog": logs.String(),
		"String": s.String(), "GoString": s.GoString(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for enc, needle := range encodings(val) {
				if strings.Contains(out, string(needle)) {
					t.Fatalf("%s output %q contains the %s of the value", name, out, enc)
				}
			}
			if name != "struct %#v" && !strings.Contains(out, "[redacted]") {
				t.Fatalf("output %q does not say [redacted]", out)
			}
		})
	}
	if s.Reveal() != val || string(s.Bytes()) != val || s.Len() != len(val) {
		t.Fatal("Reveal/Bytes/Len do not give the value")
	}
	if !s.Equal(SecretString(val)) || s.Equal(SecretString("other")) || !(Secret{}).IsZero() {
		t.Fatal("Equal/IsZero")
	}
	b := []byte("copy")
	c := NewSecret(b)
	b[0] = 'X'
	if c.Reveal() != "copy" {
		t.Fatal("NewSecret does not copy")
	}
}
