package backup

import (
	"bytes"
	"path"
	"strings"
	"testing"
)

func FuzzDecryptObject(f *testing.F) {
	for _, n := range []int{0, 5, chunkSize, chunkSize + 3} {
		obj := encryptBytes(f, bytes.Repeat([]byte{byte(n)}, n))
		f.Add(obj)
		for _, cut := range []int{1, tagSize, tagSize + 1, len(obj) - headerSize} {
			f.Add(obj[:len(obj)-cut])
		}
		f.Add(append(append([]byte{}, obj...), obj[headerSize:]...))
	}
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decryptBytes(in)
		if err != nil {
			return
		}
		// Accepted: in must be exactly what encrypting got under its salt
		// gives, so nothing was cut, added, moved or altered.
		var buf bytes.Buffer
		ew, _ := newEncWriterSalt(&buf, testKey, in[len(magic):headerSize])
		ew.Write(got)
		ew.Close()
		if !bytes.Equal(buf.Bytes(), in) {
			t.Fatalf("accepted a %d-byte object that is not a canonical encryption", len(in))
		}
	})
}

func FuzzParseSnapshot(f *testing.F) {
	f.Add([]byte(snapJSON("keys/a.key", "")))
	f.Add([]byte(snapJSON("../x", "")))
	f.Add([]byte(snapJSON("a/b/c", "")))
	f.Add([]byte(`{"time":"2025-01-01T00:00:00Z","files":[]}`))
	f.Add([]byte(`{"time":"2025-01-01T00:00:00Z","count":1,"files":[{"path":"C:x","mode":420,"size":0,"digest":"` + goodDigest + `","object":"` + goodDigest + `"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var head Snapshot
		headErr := decodeHead(bytes.NewReader(in), &head)
		s, err := parseSnapshot(testSnapID, in)
		if err != nil {
			return
		}
		if headErr != nil || !sameHead(&head, s) {
			t.Fatalf("the head reads %+v (%v) where the snapshot says %+v", head, headErr, s)
		}
		seen := map[string]bool{}
		for _, e := range s.Files {
			p := e.Path
			if p == "" || p == "." || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." ||
				strings.ContainsAny(p, "\\\x00") || seen[p] || e.Size < 0 || e.Mode&^0o777 != 0 {
				t.Fatalf("accepted unsafe entry %+v", e)
			}
			seen[p] = true
		}
	})
}
