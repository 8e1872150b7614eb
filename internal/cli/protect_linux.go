//go:build linux

package cli

import "golang.org/x/sys/unix"

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
