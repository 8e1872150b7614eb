package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestTableCellsStayOnOneLine: a cell with line breaks or tabs (a failed
// deployment's reason quotes the page its probe got) keeps its row on one
// line and the columns aligned; a nil cell is "-", not <nil>.
func TestTableCellsStayOnOneLine(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	tb := newTable(&b, "id", "status", "release")
	tb.row(4, "failed: home got <h1>500</h1>\n)\tand more", "v1.2.0")
	tb.row(3, nil, "v1.1.0")
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "<h1>500</h1> ) and more  v1.2.0") || strings.Contains(b.String(), "<nil>") {
		t.Fatalf("table:\n%s", b.String())
	}
	if at := strings.Index(lines[0], "RELEASE"); strings.Index(lines[1], "v1.2.0") != at || strings.Index(lines[2], "v1.1.0") != at {
		t.Fatalf("columns not aligned:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[2], "3   -  ") {
		t.Fatalf("nil cell: %q", lines[2])
	}
}

// TestSLACellWithoutData: an SLA with no probe results yet is "-" as
// every empty cell is.
func TestSLACellWithoutData(t *testing.T) {
	t.Parallel()
	if got := slaCell(nil); got != "-" {
		t.Fatalf("slaCell(nil) = %q", got)
	}
}

// TestEnvList: a run's environments read as a list, not Go's [a b].
func TestEnvList(t *testing.T) {
	t.Parallel()
	if got := envList([]string{"staging", "production"}); got != "staging, production" {
		t.Errorf("envList = %q", got)
	}
	if got := envList(nil); strings.Contains(got, "[") {
		t.Errorf("envList(nil) = %q", got)
	}
}
