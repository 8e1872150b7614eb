// Package activation takes the listening sockets that systemd passes a
// service started by a socket unit (sd_listen_fds(3): LISTEN_PID,
// LISTEN_FDS, LISTEN_FDNAMES; descriptors from 3 on). The sockets then
// belong to systemd and outlive the process: while Phoenix restarts (an
// upgrade, a crash), new connections wait in the socket's backlog and are
// answered by the next process instead of being refused. Phoenix asks for
// each socket by its name (FileDescriptorName= in the .socket unit).
package activation

import (
	"fmt"
	"strconv"
	"strings"
)

// firstFD is SD_LISTEN_FDS_START: the first descriptor systemd passes.
const firstFD = 3

// Passed is one descriptor systemd passed: its number and name.
type Passed struct {
	FD   int
	Name string
}

// Parse reads the sd_listen_fds variables from getenv for the process pid:
// the descriptors passed and their names, or none when LISTEN_PID is unset
// or names another process (the variables were meant for a parent). A
// descriptor without a name from LISTEN_FDNAMES is named "unknown", as
// systemd does.
func Parse(getenv func(string) string, pid int) ([]Passed, error) {
	ps := getenv("LISTEN_PID")
	if ps == "" {
		return nil, nil
	}
	p, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("LISTEN_PID=%q is not a process id", ps)
	}
	if p != pid {
		return nil, nil
	}
	ns := getenv("LISTEN_FDS")
	n, err := strconv.Atoi(ns)
	if err != nil || n < 0 || n > 1024 {
		return nil, fmt.Errorf("LISTEN_FDS=%q is not a count of descriptors (0 to 1024)", ns)
	}
	var names []string
	if v := getenv("LISTEN_FDNAMES"); v != "" {
		names = strings.Split(v, ":")
		if len(names) != n {
			return nil, fmt.Errorf("LISTEN_FDNAMES=%q names %d descriptors, LISTEN_FDS=%d", v, len(names), n)
		}
	}
	out := make([]Passed, n)
	for i := range out {
		out[i] = Passed{FD: firstFD + i, Name: "unknown"}
		if names != nil {
			out[i].Name = names[i]
		}
	}
	return out, nil
}
