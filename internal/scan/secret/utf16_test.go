package secret

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// TestUTF16FilesAreScanned: a UTF-16 file with a byte order mark (little
// or big endian, as Windows tools write .env and .config files) is decoded
// and scanned, at the lines of its text, also when read in pieces and
// past characters outside the BMP; a UTF-8 one's mark does not hide its
// first line; a binary file and UTF-16 without a mark stay binary.
func TestUTF16FilesAreScanned(t *testing.T) {
	dir := t.TempDir()
	tok := "ghp_" + randFrom(alnum, 36)
	pw := randFrom(alnum, 23) + "7"
	text := "# build agent 🔥\r\nGITHUB_TOKEN=" + tok + "\r\n"
	long := strings.Repeat("# 🔥 filler line with a character outside the BMP\r\n", 400) + "TOKEN=" + tok + "\r\n"
	write := func(rel string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("le.env", encodeUTF16(text, false))
	write("be.config", encodeUTF16(text, true))
	write("long.ps1", encodeUTF16(long, false))
	write("bom.env", append(append([]byte{}, bomUTF8...), "DB_PASSWORD="+pw+"\n"...))
	write("nobom.env", encodeUTF16(text, false)[2:])
	write("logo.png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), text...))
	for _, limit := range []int64{0, 1000} {
		r := runIn(t, dir, Options{MaxFileSize: limit})
		got := map[string]string{}
		for _, f := range r.Findings {
			got[f.File] += f.RuleID + ":" + itoa(f.Line) + ":" + itoa(f.Column) + " "
		}
		want := map[string]string{"le.env": "github-token:2:14 ", "be.config": "github-token:2:14 ",
			"long.ps1": "github-token:401:7 ", "bom.env": "generic-secret-assignment:1:13 "}
		if len(got) != len(want) {
			t.Errorf("limit %d: findings %v, want %v", limit, got, want)
		}
		for f, w := range want {
			if got[f] != w {
				t.Errorf("limit %d: %s: %q, want %q", limit, f, got[f], w)
			}
		}
		if r.Stats["binary"] != 2 {
			t.Errorf("limit %d: stats %v, want 2 binary files", limit, r.Stats)
		}
	}
}

// FuzzUTF16: any bytes decode without panicking to valid UTF-8, the same
// read at once or a byte at a time.
func FuzzUTF16(f *testing.F) {
	f.Add([]byte("\xff\xfeA\x00\x3d\xd8\x25\xdd"), true)
	f.Add([]byte("\xfe\xff\xd8\x3d"), false)
	f.Fuzz(func(t *testing.T, data []byte, big bool) {
		in := append([]byte{}, bomUTF16LE...)
		if big {
			in = append([]byte{}, bomUTF16BE...)
		}
		in = append(in, data...)
		whole := readAll(t, decoded(strings.NewReader(string(in))), 1<<20)
		bytewise := readAll(t, decoded(&oneByte{in}), 1)
		if whole != bytewise || !utf8Valid(whole) {
			t.Fatalf("decoded %q, a byte at a time %q", whole, bytewise)
		}
	})
}

type oneByte struct{ b []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], o.b = o.b[0], o.b[1:]
	return 1, nil
}

func readAll(t *testing.T, r io.Reader, chunk int) string {
	var b strings.Builder
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// encodeUTF16 is text in UTF-16 with a byte order mark, as Windows tools
// write .env and .config files.
func encodeUTF16(text string, bigEndian bool) []byte {
	u := utf16.Encode([]rune("\ufeff" + text))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return b
}
