package testreport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Coverage is line (or, for Go, statement) coverage.
type Coverage struct {
	Covered int    `json:"covered"`
	Total   int    `json:"total"`
	Format  string `json:"format"` // lcov, cobertura, go, istanbul
}

// Percent returns the covered share in percent; 0 when nothing is measured.
func (c Coverage) Percent() float64 {
	if c.Total <= 0 {
		return 0
	}
	return 100 * float64(c.Covered) / float64(c.Total)
}

// String is e.g. "81.3% (813/1000 lines, lcov)".
func (c Coverage) String() string {
	return fmt.Sprintf("%.1f%% (%d/%d lines, %s)", c.Percent(), c.Covered, c.Total, c.Format)
}

// Add merges o into c (reports of different suites count together).
func (c *Coverage) Add(o Coverage) {
	c.Covered += o.Covered
	c.Total += o.Total
	switch {
	case c.Format == "":
		c.Format = o.Format
	case o.Format != "" && c.Format != o.Format:
		c.Format = "mixed"
	}
}

// ParseCoverage detects the format of a coverage report by its content and
// parses it: Cobertura XML, Istanbul coverage-summary.json, a Go cover
// profile ("mode: ..."), or lcov.
func ParseCoverage(name string, data []byte) (Coverage, error) {
	if len(data) > MaxReportSize {
		return Coverage{}, fmt.Errorf("%s: larger than %d bytes", name, MaxReportSize)
	}
	head := bytes.TrimSpace(data[:min(len(data), 512)])
	switch {
	case bytes.HasPrefix(head, []byte("<")):
		return ParseCobertura(name, bytes.NewReader(data))
	case bytes.HasPrefix(head, []byte("{")):
		return ParseIstanbulSummary(name, data)
	case bytes.HasPrefix(head, []byte("mode:")):
		return ParseGoCover(name, bytes.NewReader(data))
	}
	return ParseLCOV(name, bytes.NewReader(data))
}

// ParseLCOV reads an lcov tracefile. Lines are counted from DA records
// (a line hit in any record of the same file counts once); records without
// DA lines use their LF/LH totals.
func ParseLCOV(name string, r io.Reader) (Coverage, error) {
	type key struct {
		file string
		line int
	}
	hits := map[key]bool{}
	c := Coverage{Format: "lcov"}
	sc := bufio.NewScanner(io.LimitReader(r, MaxReportSize))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var file string
	var lf, lh, da, n int
	records := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		tag, val, _ := strings.Cut(line, ":")
		switch tag {
		case "SF":
			file, lf, lh, da = val, 0, 0, 0
		case "DA":
			parts := strings.Split(val, ",")
			if len(parts) < 2 {
				return Coverage{}, fmt.Errorf("%s:%d: DA needs line,hits: %q", name, n, clip(line, 80))
			}
			ln, err1 := strconv.Atoi(parts[0])
			h, err2 := strconv.ParseFloat(parts[1], 64)
			if err1 != nil || err2 != nil || ln < 0 {
				return Coverage{}, fmt.Errorf("%s:%d: DA needs numbers: %q", name, n, clip(line, 80))
			}
			da++
			k := key{file, ln}
			hits[k] = hits[k] || h > 0
		case "LF":
			lf, _ = strconv.Atoi(val)
		case "LH":
			lh, _ = strconv.Atoi(val)
		case "end_of_record":
			records++
			if da == 0 && lf > 0 {
				c.Total += lf
				c.Covered += min(max(lh, 0), lf)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Coverage{}, fmt.Errorf("%s:%d: %w", name, n, err)
	}
	if records == 0 && len(hits) == 0 {
		return Coverage{}, fmt.Errorf("%s: no lcov records (SF:/DA:/end_of_record)", name)
	}
	for _, hit := range hits {
		c.Total++
		if hit {
			c.Covered++
		}
	}
	return c, nil
}

// ParseGoCover reads a Go cover profile (go test -coverprofile). Coverage is
// by statements, as go tool cover reports it; a block listed several times
// (e.g. from -coverpkg runs) counts once, covered if any run covered it.
func ParseGoCover(name string, r io.Reader) (Coverage, error) {
	type block struct {
		loc   string
		stmts int
	}
	seen := map[string]*block{}
	covered := map[string]bool{}
	sc := bufio.NewScanner(io.LimitReader(r, MaxReportSize))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if n == 1 {
			if !strings.HasPrefix(line, "mode:") {
				return Coverage{}, fmt.Errorf("%s:1: a Go cover profile starts with a mode line", name)
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || !strings.Contains(f[0], ":") {
			return Coverage{}, fmt.Errorf("%s:%d: want file:start,end statements count, got %q", name, n, clip(line, 80))
		}
		stmts, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || stmts < 0 || stmts > 1<<20 {
			return Coverage{}, fmt.Errorf("%s:%d: statements and count must be numbers: %q", name, n, clip(line, 80))
		}
		if seen[f[0]] == nil {
			seen[f[0]] = &block{loc: f[0], stmts: stmts}
		}
		covered[f[0]] = covered[f[0]] || count > 0
	}
	if err := sc.Err(); err != nil {
		return Coverage{}, fmt.Errorf("%s:%d: %w", name, n, err)
	}
	if n == 0 {
		return Coverage{}, fmt.Errorf("%s: empty Go cover profile", name)
	}
	c := Coverage{Format: "go"}
	for k, b := range seen {
		c.Total += b.stmts
		if covered[k] {
			c.Covered += b.stmts
		}
	}
	return c, nil
}

// ParseCobertura reads a Cobertura XML report: the root's lines-covered and
// lines-valid when present, otherwise every <line hits="..."> counted once
// per class file and line number.
func ParseCobertura(name string, r io.Reader) (Coverage, error) {
	dec := xml.NewDecoder(io.LimitReader(r, MaxReportSize))
	dec.Strict = false
	c := Coverage{Format: "cobertura"}
	type key struct {
		file string
		line string
	}
	lines := map[key]bool{}
	var file string
	root := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return Coverage{}, fmt.Errorf("%s:%d: not valid Cobertura XML: %w", name, line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		a := attrMap(se)
		switch se.Name.Local {
		case "coverage":
			root = true
			cov, err1 := strconv.Atoi(a["lines-covered"])
			valid, err2 := strconv.Atoi(a["lines-valid"])
			if err1 == nil && err2 == nil && valid > 0 && cov >= 0 {
				c.Covered, c.Total = min(cov, valid), valid
				return c, nil
			}
		case "class":
			file = a["filename"]
		case "line":
			h, err := strconv.ParseFloat(a["hits"], 64)
			if err != nil || math.IsNaN(h) {
				continue
			}
			k := key{file, a["number"]}
			lines[k] = lines[k] || h > 0
		}
	}
	if !root {
		return Coverage{}, fmt.Errorf("%s: no <coverage> element", name)
	}
	for _, hit := range lines {
		c.Total++
		if hit {
			c.Covered++
		}
	}
	return c, nil
}

// ParseIstanbulSummary reads Istanbul's coverage-summary.json (the
// json-summary reporter of Jest, nyc and Vitest) and takes total.lines.
func ParseIstanbulSummary(name string, data []byte) (Coverage, error) {
	var doc struct {
		Total *struct {
			Lines struct {
				Total   int `json:"total"`
				Covered int `json:"covered"`
			} `json:"lines"`
		} `json:"total"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Coverage{}, fmt.Errorf("%s: not a coverage-summary.json: %w", name, err)
	}
	if doc.Total == nil {
		return Coverage{}, fmt.Errorf("%s: no \"total\" object; write it with the json-summary reporter", name)
	}
	l := doc.Total.Lines
	if l.Total < 0 || l.Covered < 0 {
		return Coverage{}, fmt.Errorf("%s: negative line counts", name)
	}
	return Coverage{Covered: min(l.Covered, l.Total), Total: l.Total, Format: "istanbul"}, nil
}

// CheckMin is the tests.coverage.min gate: an error naming the measured and
// required percentages when c is below min. min <= 0 disables the gate.
func CheckMin(c Coverage, min float64) error {
	if min <= 0 {
		return nil
	}
	if c.Total == 0 {
		return fmt.Errorf("coverage gate: no coverage was measured, %.1f%% is required (check the suites' coverage paths)", min)
	}
	if p := c.Percent(); p+1e-9 < min {
		return fmt.Errorf("coverage gate: %.1f%% of lines covered, %.1f%% required (tests.coverage.min)", p, min)
	}
	return nil
}
