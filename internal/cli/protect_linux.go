//go:build linux

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// protectProcess makes this process non-dumpable before it takes any
// key. The processes it starts (pipeline steps, npm install scripts) run
// as the same user, and unsetting a variable does not clear
// /proc/<pid>/environ: without this any of them could read the master
// key given as PHOENIX_MASTER_KEY, PHOENIX_BACKUP_KEY or the database URL
// there, or the unsealed key in /proc/<pid>/mem. It also keeps the keys
// out of core dumps.
func protectProcess() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}

// scrubEnviron overwrites with zeros the values of the variables secret
// names in the environment this process was started with, which is what
// /proc/<pid>/environ shows whatever os.Unsetenv did. Go copied it at
// start and never reads it again. It takes the keys out of reach of root
// and of a step that a sandbox cannot stop reading it (Landlock does not
// guard /proc/<pid>/environ).
func scrubEnviron(secret func(name string) bool) error {
	start, end, err := environBounds()
	if err != nil {
		return err
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	buf := make([]byte, end-start)
	if _, err := mem.ReadAt(buf, start); err != nil {
		return fmt.Errorf("read the environment: %w", err)
	}
	changed := false
	for i := 0; i < len(buf); {
		entry := buf[i:]
		if n := bytes.IndexByte(entry, 0); n >= 0 {
			entry = entry[:n]
		}
		if name, _, ok := bytes.Cut(entry, []byte("=")); ok && secret(string(name)) {
			clear(entry[len(name)+1:])
			changed = true
		}
		i += len(entry) + 1
	}
	if !changed {
		return nil
	}
	if _, err := mem.WriteAt(buf, start); err != nil {
		return fmt.Errorf("scrub the environment: %w", err)
	}
	return nil
}

// environBounds returns where this process's initial environment lies in
// its memory: env_start and env_end, fields 50 and 51 of /proc/self/stat.
func environBounds() (start, end int64, err error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, err
	}
	// Fields from the third on follow the command name's closing parenthesis.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 49 {
		return 0, 0, errors.New("/proc/self/stat has no env_start and env_end (Linux 3.5+)")
	}
	start, err1 := strconv.ParseInt(fields[47], 10, 64)
	end, err2 := strconv.ParseInt(fields[48], 10, 64)
	if err := errors.Join(err1, err2); err != nil || end < start {
		return 0, 0, fmt.Errorf("/proc/self/stat: env_start %q, env_end %q", fields[47], fields[48])
	}
	return start, end, nil
}
