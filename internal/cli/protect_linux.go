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
	return rewriteStartBlock(envStartField, func(buf []byte) bool {
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
		return changed
	})
}

// scrubArgs overwrites with x every occurrence of the secrets in the
// command line this process was started with, which /proc/<pid>/cmdline
// and ps show every user of the machine: a password given in
// --database-url reads postgres://phoenix:xxxx@db/phoenix there. Unlike
// the environment, the runtime did not copy this block: os.Args points into
// it, which is why Main works on copies of its arguments.
func scrubArgs(secrets []string) error {
	return rewriteStartBlock(argStartField, func(buf []byte) bool {
		changed := false
		for _, s := range secrets {
			for i := bytes.Index(buf, []byte(s)); s != "" && i >= 0; i = bytes.Index(buf, []byte(s)) {
				copy(buf[i:], bytes.Repeat([]byte("x"), len(s)))
				changed = true
			}
		}
		return changed
	})
}

// Fields of /proc/self/stat where the command line (arg_start, arg_end)
// and the environment (env_start, env_end) lie in memory, counted from 1.
const (
	argStartField = 48
	envStartField = 50
)

// rewriteStartBlock reads the memory between fields start and start+1 of
// /proc/self/stat, lets edit change it, and writes it back when edit
// reports a change: the blocks the kernel set up at exec, which Go copied
// and never reads again.
func rewriteStartBlock(field int, edit func([]byte) bool) error {
	start, end, err := statBounds(field)
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
		return fmt.Errorf("read the process's start block: %w", err)
	}
	if !edit(buf) {
		return nil
	}
	if _, err := mem.WriteAt(buf, start); err != nil {
		return fmt.Errorf("scrub the process's start block: %w", err)
	}
	return nil
}

// statBounds returns fields field and field+1 of /proc/self/stat, the
// start and end of a block of this process's memory.
func statBounds(field int) (start, end int64, err error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, err
	}
	// Fields from the third on follow the command name's closing parenthesis.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	i := field - 3
	if len(fields) <= i+1 {
		return 0, 0, fmt.Errorf("/proc/self/stat has no field %d (Linux 3.5+)", field+1)
	}
	start, err1 := strconv.ParseInt(fields[i], 10, 64)
	end, err2 := strconv.ParseInt(fields[i+1], 10, 64)
	if err := errors.Join(err1, err2); err != nil || end < start {
		return 0, 0, fmt.Errorf("/proc/self/stat: fields %d and %d are %q and %q", field, field+1, fields[i], fields[i+1])
	}
	return start, end, nil
}
