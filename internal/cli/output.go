package cli

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns with an upper-case header.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	fmt.Fprintln(t.tw, strings.ToUpper(strings.Join(headers, "\t")))
	return t
}

// row writes one row. A cell's line breaks and tabs become spaces (they
// would break the row and its columns: a failed probe's reason quotes the
// page it got), and a nil cell is "-" (not Go's <nil>).
func (t *table) row(cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = cellText(c)
	}
	fmt.Fprintln(t.tw, strings.Join(s, "\t"))
}

// cellText is c as one line of a table cell, "-" for nil.
func cellText(c any) string {
	if c == nil {
		return "-"
	}
	return strings.Join(strings.Fields(fmt.Sprint(c)), " ")
}

// clipCell is s as one line of at most n characters, the rest cut to "…":
// for free text (a failure's reason) in a column that others follow.
func clipCell(s string, n int) string {
	s = cellText(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (t *table) flush() error { return t.tw.Flush() }

// emit prints v as JSON when --output json, else calls tableFn.
func (g *Globals) emit(v any, tableFn func(w io.Writer) error) error {
	if g.Output == "json" {
		return printJSON(g.Stdout, v)
	}
	return tableFn(g.Stdout)
}

// yesNo is a boolean table cell: yes or no, not Go's true or false.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// sumString is a short stable hash of s, for file names.
func sumString(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:8]
}
