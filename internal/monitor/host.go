package monitor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CPUTimes are the aggregate cpu counters of /proc/stat (in ticks).
type CPUTimes struct {
	Total, Idle uint64
}

// ParseProcStat reads the "cpu" line of /proc/stat.
func ParseProcStat(r io.Reader) (CPUTimes, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != "cpu" {
			continue
		}
		var t CPUTimes
		for i, s := range f[1:] {
			if i >= 8 { // guest time is already counted in user
				break
			}
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("/proc/stat: field %d of the cpu line is %q, not a number", i+1, s)
			}
			t.Total += v
			if i == 3 || i == 4 { // idle, iowait
				t.Idle += v
			}
		}
		return t, nil
	}
	if err := sc.Err(); err != nil {
		return CPUTimes{}, err
	}
	return CPUTimes{}, errors.New("/proc/stat: no cpu line")
}

// CPUPercent is the busy share between two readings, 0-100.
func CPUPercent(prev, cur CPUTimes) (float64, bool) {
	if cur.Total <= prev.Total || cur.Idle < prev.Idle {
		return 0, false
	}
	dt, di := cur.Total-prev.Total, cur.Idle-prev.Idle
	return 100 * (1 - float64(min(di, dt))/float64(dt)), true
}

// ParseMeminfo returns the used share of memory, 0-100, from
// /proc/meminfo (MemTotal less MemAvailable).
func ParseMeminfo(r io.Reader) (float64, error) {
	var total, avail int64 = -1, -1
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || v < 0 {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total = v
		case "MemAvailable:":
			avail = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if total <= 0 || avail < 0 {
		return 0, errors.New("/proc/meminfo: MemTotal or MemAvailable missing")
	}
	return 100 * (1 - float64(min(avail, total))/float64(total)), nil
}

// hostSampler reads cpu and memory use from a proc folder.
type hostSampler struct {
	proc string
	prev CPUTimes
	have bool
}

// sample returns cpu (once two readings exist) and memory percentages.
func (h *hostSampler) sample() (cpu float64, cpuOK bool, mem float64, err error) {
	f, err := os.Open(filepath.Join(h.proc, "stat"))
	if err != nil {
		return 0, false, 0, err
	}
	t, err := ParseProcStat(f)
	f.Close()
	if err != nil {
		return 0, false, 0, err
	}
	if h.have {
		cpu, cpuOK = CPUPercent(h.prev, t)
	}
	h.prev, h.have = t, true
	m, err := os.Open(filepath.Join(h.proc, "meminfo"))
	if err != nil {
		return cpu, cpuOK, 0, err
	}
	defer m.Close()
	mem, err = ParseMeminfo(m)
	return cpu, cpuOK, mem, err
}
