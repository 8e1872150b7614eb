package lockfile

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// naiveLine is the line of the first `"key": {`, else of the first
// `"key":`, found by searching from the top.
func naiveLine(data, key string) int {
	q := regexp.QuoteMeta(`"` + key + `"`)
	for _, re := range []string{q + `\s*:\s*\{`, q + `\s*:`} {
		if loc := regexp.MustCompile(re).FindStringIndex(data); loc != nil {
			return strings.Count(data[:loc[0]], "\n") + 1
		}
	}
	return 0
}

func TestIndexKeysFindsEntriesAndMalformedOnes(t *testing.T) {
	data := "{\n  \"packages\": {\n    \"\": {\"name\": \"\"},\n    \"node_modules/a\": {\n      \"version\": \"1.0.0\"\n    },\n" +
		"    \"node_modules/b\": 5,\n    \"node_modules/\\u0063\": {}\n  },\n  \"dependencies\": {\"a\": \"^1\", \"x\": {\"a\": {}}}\n}\n"
	idx := indexKeys([]byte(data))
	for key, want := range map[string]int{"packages": 2, "": 3, "node_modules/a": 4, "node_modules/b": 7, "node_modules/c": 8, "a": 10, "version": 5} {
		if got := idx[key]; got != want {
			t.Errorf("line of %q = %d, want %d", key, got, want)
		}
	}
	if _, ok := idx["1.0.0"]; ok {
		t.Error("a string value was indexed as a key")
	}
}

func TestIndexKeysMatchesASearchOnTheTestdata(t *testing.T) {
	for _, f := range []string{"testdata/npm1/package-lock.json", "testdata/npm2/package-lock.json", "testdata/npm3/package-lock.json"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for key, got := range indexKeys(data) {
			if want := naiveLine(string(data), key); got != want {
				t.Errorf("%s: line of %q = %d, a search finds %d", f, key, got, want)
			}
		}
	}
}

// TestLargeLockfileParsesInLinearTime: each entry's line was found by a
// search from the top of the file, so 20 000 entries took minutes.
func TestLargeLockfileParsesInLinearTime(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\n      \"dependencies\": {\"pkg-0\": \"1.0.0\"}\n    }")
	for i := range n {
		fmt.Fprintf(&b, ",\n    \"node_modules/pkg-%d\": {\n      \"version\": \"1.0.0\",\n      \"license\": \"MIT\",\n      \"dependencies\": {\"pkg-%d\": \"1.0.0\", \"pkg-%d\": \"1.0.0\"}\n    }", i, (2*i+1)%n, (2*i+2)%n)
	}
	b.WriteString("\n  }\n}\n")
	start := time.Now()
	l, err := ParseNPM("package-lock.json", []byte(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("parsing %d entries took %s", n, took)
	}
	if len(l.Packages) != n || len(l.Problems) != 0 {
		t.Fatalf("%d packages, problems %v", len(l.Packages), l.Problems)
	}
	if p := l.Packages[0]; p.Name != "pkg-0" || p.Line != 7 {
		t.Errorf("first package %s on line %d, want pkg-0 on line 7", p.Name, p.Line)
	}
}

// FuzzIndexKeys: no panic on any input, and on a valid document every
// key's line is where a search from the top finds it.
func FuzzIndexKeys(f *testing.F) {
	for _, s := range []string{`{"a": {"b": 1}}`, "{\n\"a\\\"b\": {},\n\"c\": [\"d\", {\"e\": {}}]\n}", `{"\u00e9": {`, `"x\`, "{\n\"\": {}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idx := indexKeys(data)
		if !json.Valid(data) || !utf8.Valid(data) || strings.Contains(string(data), `\`) {
			return // escapes: a search for the raw key cannot tell
		}
		for key, got := range idx {
			if want := naiveLine(string(data), key); got != want {
				t.Fatalf("line of %q = %d, a search finds %d", key, got, want)
			}
		}
	})
}
