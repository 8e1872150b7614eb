package app

import (
	"fmt"
	"strconv"
	"strings"
)

// DiskThreshold is when a folder's free space counts as low for the
// built-in disk-low alert (--disk-alert-free): under Percent of the
// filesystem, or under Bytes. The zero value never alerts.
type DiskThreshold struct {
	Percent float64
	Bytes   uint64
}

// DefaultDiskAlertFree is --disk-alert-free's default.
const DefaultDiskAlertFree = "5%"

// low reports whether free bytes of total are under t.
func (t DiskThreshold) low(free, total uint64) bool {
	if t.Bytes > 0 {
		return free < t.Bytes
	}
	return t.Percent > 0 && total > 0 && float64(free)/float64(total)*100 < t.Percent
}

// String shows t as ParseDiskThreshold reads it.
func (t DiskThreshold) String() string {
	if t.Bytes > 0 {
		return strconv.FormatUint(t.Bytes, 10)
	}
	return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
}

// sizeUnits are the units ParseDiskThreshold reads, longest first.
var sizeUnits = []struct {
	suffix string
	n      uint64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// ParseDiskThreshold reads a --disk-alert-free value: a percentage of the
// filesystem ("5%", under 100) or a size in binary units ("1GiB",
// "500MiB"); "0" turns the alert off.
func ParseDiskThreshold(s string) (DiskThreshold, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return DiskThreshold{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v < 100) { // NaN too
			return DiskThreshold{}, fmt.Errorf("%q: a percentage must be a number above 0 and under 100", s)
		}
		return DiskThreshold{Percent: v}, nil
	}
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(v > 0) || v*float64(u.n) >= 1<<63 {
			return DiskThreshold{}, fmt.Errorf("%q: a size must be a positive number with its unit", s)
		}
		return DiskThreshold{Bytes: uint64(v * float64(u.n))}, nil
	}
	return DiskThreshold{}, fmt.Errorf("%q is neither a percentage (5%%) nor a size (1GiB, 500MiB)", s)
}
