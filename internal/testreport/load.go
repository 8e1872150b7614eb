package testreport

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// LoadJUnit reads every JUnit file matching glob (relative to dir) and
// merges them. A glob matching nothing is an error: the suite did not write
// the report it promised.
func LoadJUnit(dir, glob string) (*Summary, error) {
	matches, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		return nil, fmt.Errorf("junit %q: %w", glob, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("junit %q: no report found in %s (does the test command write it?)", glob, dir)
	}
	sort.Strings(matches)
	total := &Summary{}
	for _, m := range matches {
		f, err := os.Open(m)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dir, m)
		s, err := ParseJUnit(filepath.ToSlash(rel), f)
		f.Close()
		if err != nil {
			return nil, err
		}
		total.Add(s)
	}
	return total, nil
}

// LoadCoverage reads the coverage report at path (relative to dir).
func LoadCoverage(dir, path string) (Coverage, error) {
	full := filepath.Join(dir, path)
	fi, err := os.Stat(full)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverage %s: %w", path, err)
	}
	if fi.Size() > MaxReportSize {
		return Coverage{}, fmt.Errorf("coverage %s: larger than %d bytes", path, MaxReportSize)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return Coverage{}, err
	}
	return ParseCoverage(path, data)
}
