package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestLogLines: 'phoenix logs -o json' writes a JSON line for every log
// line, split into its step and text whatever chunks the log arrives in,
// the last line too when it has no line break; a --step log's lines have
// no prefix and take the step asked for.
func TestLogLines(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l := &logLines{w: &b, run: 7}
	for _, chunk := range []string{"build | npm ci\nbuild | b", "uilt dist/\n", "deploy/staging | a | b\nno step"} {
		if _, err := l.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := []logLine{{7, "build", "npm ci"}, {7, "build", "built dist/"}, {7, "deploy/staging", "a | b"}, {7, "", "no step"}}
	checkLogLines(t, b.String(), want)

	b.Reset()
	l = &logLines{w: &b, run: 7, step: "build"}
	l.Write([]byte("x | y\n"))
	checkLogLines(t, b.String(), []logLine{{7, "build", "x | y"}})
}

func checkLogLines(t *testing.T, out string, want []logLine) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("want %d lines:\n%s", len(want), out)
	}
	for i, line := range lines {
		var got logLine
		if err := json.Unmarshal([]byte(line), &got); err != nil || got != want[i] {
			t.Errorf("line %d %s: %+v, %v; want %+v", i, line, got, err, want[i])
		}
	}
	if !strings.Contains(out, `"step":`) || !strings.Contains(out, `"line":`) {
		t.Errorf("keys: %s", out)
	}
}
