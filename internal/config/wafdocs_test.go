package config

import (
	"os"
	"strings"
	"testing"
)

// TestWAFDocsExamples: every phoenix.yaml example of docs/waf.md (an
// edge: section or a custom_rules list) parses and validates.
func TestWAFDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/waf.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(data), "```yaml\n")
	n := 0
	for _, b := range blocks[1:] {
		code, _, _ := strings.Cut(b, "```")
		var edge string
		switch {
		case strings.HasPrefix(code, "edge:\n"):
			edge = indent(strings.TrimPrefix(code, "edge:\n"), -2)
		case strings.HasPrefix(code, "custom_rules:\n"):
			edge = "waf:\n" + indent(code, 2)
		default:
			continue
		}
		n++
		if _, err := ParseEdge([]byte(edge), "docs/waf.md"); err != nil {
			t.Errorf("example does not parse:\n%s\n%v", code, err)
		}
	}
	if n < 3 {
		t.Fatalf("%d examples found; want the top one, custom rules and exclusions", n)
	}
}

// indent shifts every line of s by by spaces (negative: removes them).
func indent(s string, by int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if by < 0 {
			lines[i] = strings.TrimPrefix(l, strings.Repeat(" ", -by))
		} else if l != "" {
			lines[i] = strings.Repeat(" ", by) + l
		}
	}
	return strings.Join(lines, "\n")
}
