package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes r as headings, lines and aligned tables for a terminal.
func WriteText(w io.Writer, r *Report) error {
	for i, b := range Blocks(r) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := b.Title
		if b.Level == 1 {
			title = strings.ToUpper(title)
		}
		fmt.Fprintln(w, title)
		for _, l := range b.Lines {
			fmt.Fprintln(w, "  "+l)
		}
		if len(b.Header) == 0 || len(b.Rows) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+strings.Join(b.Header, "\t"))
		for _, row := range b.Rows {
			fmt.Fprintln(tw, "  "+strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// WriteMarkdown writes r as a Markdown document (GitHub tables).
func WriteMarkdown(w io.Writer, r *Report) error {
	for _, b := range Blocks(r) {
		fmt.Fprintf(w, "%s %s\n\n", strings.Repeat("#", b.Level), b.Title)
		for _, l := range b.Lines {
			fmt.Fprintf(w, "%s\n\n", mdEscape(l))
		}
		if len(b.Header) == 0 || len(b.Rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(b.Header, " | "), strings.Repeat("---|", len(b.Header)))
		for _, row := range b.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = mdEscape(c)
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

// mdEscape keeps text from breaking a table or starting markup.
var mdEscape = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`).Replace
