package config

import (
	"os"
	"strings"
	"testing"
)

// TestDocsExamples joins the yaml examples of docs/configuration.md's
// Sections part into one file, which must load without problems.
func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start, end := strings.Index(doc, "\n## Sections"), strings.Index(doc, "\n## phoenix init")
	if start < 0 || end < start {
		t.Fatal("configuration.md lacks the Sections part")
	}
	var joined strings.Builder
	blocks := strings.Split(doc[start:end], "```yaml\n")
	for _, b := range blocks[1:] {
		code, _, ok := strings.Cut(b, "```")
		if !ok {
			t.Fatal("unterminated code block")
		}
		joined.WriteString(code)
	}
	if len(blocks) < 14 {
		t.Fatalf("only %d examples", len(blocks)-1)
	}
	c, err := Parse([]byte(joined.String()), "configuration.md")
	if err != nil {
		t.Fatalf("examples do not load:\n%v\n---\n%s", err, joined.String())
	}
	if len(c.Warnings) > 0 {
		t.Errorf("examples have warnings:\n%v", c.Warnings)
	}
	if err := compileSchema(t).Validate(yamlInstance(t, []byte(joined.String()))); err != nil {
		t.Errorf("schema rejects the examples: %v", err)
	}
}
