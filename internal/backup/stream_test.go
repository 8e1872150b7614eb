package backup

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// testKey is a fixed data key for object tests.
var testKey = bytes.Repeat([]byte{7}, keySize)

// encryptBytes encrypts plain as an object.
func encryptBytes(t testing.TB, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	ew, err := newEncWriter(&buf, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ew.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decryptBytes decrypts an object without checking its name.
func decryptBytes(obj []byte) ([]byte, error) {
	d, err := newDecReader(bytes.NewReader(obj), testKey, "object test", "")
	if err != nil {
		return nil, err
	}
	return io.ReadAll(d)
}

func TestStreamRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3*chunkSize + 17} {
		plain := make([]byte, n)
		rand.Read(plain)
		obj := encryptBytes(t, plain)
		if int64(len(obj)) != storedSize(int64(n)) {
			t.Errorf("%d bytes: object is %d bytes, storedSize says %d", n, len(obj), storedSize(int64(n)))
		}
		got, err := decryptBytes(obj)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: round trip gave %d bytes, %v", n, len(got), err)
		}
	}
}

func TestStreamRejects(t *testing.T) {
	plain := make([]byte, 2*chunkSize+100)
	rand.Read(plain)
	obj := encryptBytes(t, plain)
	full := headerSize + chunkSize + tagSize
	swapped := append(append(append([]byte{}, obj[:headerSize]...), obj[full:2*full-headerSize]...), obj[headerSize:full]...)
	swapped = append(swapped, obj[2*full-headerSize:]...)
	empty := encryptBytes(t, nil)
	exact := encryptBytes(t, plain[:chunkSize])
	cases := map[string][]byte{
		"empty input":        nil,
		"header only":        obj[:headerSize],
		"short header":       obj[:10],
		"wrong magic":        append([]byte("PHXBK2\n"), obj[len(magic):]...),
		"missing last chunk": obj[:2*full-headerSize],
		"cut in last chunk":  obj[:len(obj)-1],
		"trailing byte":      append(append([]byte{}, obj...), 0),
		"trailing chunk":     append(append([]byte{}, exact...), empty[headerSize:]...),
		"reordered chunks":   swapped,
		"flipped bit":        flip(obj, headerSize+chunkSize+tagSize+5),
		"flipped salt":       flip(obj, len(magic)+1),
		"other key":          encryptWith(t, bytes.Repeat([]byte{8}, keySize), plain),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := decryptBytes(in); !errors.Is(err, ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestStreamChecksName(t *testing.T) {
	obj := encryptBytes(t, []byte("named"))
	d, _ := newDecReader(bytes.NewReader(obj), testKey, "object x", backend.Digest("sha256:"+strings.Repeat("0", 64)))
	if _, err := io.ReadAll(d); !errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt for a misnamed object", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 1
	return c
}

func encryptWith(t *testing.T, key, plain []byte) []byte {
	var buf bytes.Buffer
	ew, err := newEncWriter(&buf, key)
	if err != nil {
		t.Fatal(err)
	}
	ew.Write(plain)
	ew.Close()
	return buf.Bytes()
}
