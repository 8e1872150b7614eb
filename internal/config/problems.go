package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong (or, with Warning set, suspicious) in a
// phoenix.yaml. Line and Col are 1-based; they are zero only for a Config
// built in code rather than parsed from a file.
type Problem struct {
	File    string // file name as given to Parse or Load
	Line    int
	Col     int
	Field   string // field path, e.g. environments.production.protection.approvals
	Message string // what is wrong, lowercase
	Hint    string // how to fix it, when known
	Warning bool   // true for a warning: the config still loads
}

// String formats the problem as
// "phoenix.yaml:12:5: environments.prod.domains[0]: message (hint: ...)".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Col)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Problems is the error Parse, Load and Validate return: every problem found,
// in file order. Its Error method prints one problem per line.
type Problems []Problem

// Error prints one problem per line: the errors only when there are any
// (a warning is no reason for the failure; Warnings lists them), else the
// warnings.
func (ps Problems) Error() string {
	if errs := ps.Errors(); len(errs) > 0 && len(errs) < len(ps) {
		ps = errs
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that are warnings.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// sorted returns the problems ordered by position, then field, without
// exact duplicates.
func (ps Problems) sorted() Problems {
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Field < b.Field
	})
	uniq := out[:0]
	for i, p := range out {
		if i > 0 && p == out[i-1] {
			continue
		}
		uniq = append(uniq, p)
	}
	return uniq
}

// Pos is a position in the source file.
type Pos struct{ Line, Col int }
