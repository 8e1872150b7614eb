package swa

import (
	"fmt"
	"strings"
)

// Problem is one finding about a config file: an error the cloud would
// reject at deploy time, or (in Config.Warnings) a warning about behaviour
// that is accepted but probably not what the author meant.
type Problem struct {
	File  string // file name given to Parse
	Line  int    // 1-based; 0 when the problem is about the whole file
	Col   int    // 1-based byte column
	Field string // JSON path of the offending value, e.g. "routes[3].route"
	Msg   string // what is wrong and, where known, how to fix it
}

// String renders the problem as "file:line:col: field: msg".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is the error Parse and Load return when a config is invalid. It
// lists every problem found, in file order. Use errors.As to get at it.
type Problems []Problem

// Error joins all problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
