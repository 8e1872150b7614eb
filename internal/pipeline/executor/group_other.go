//go:build !unix

package executor

import "os/exec"

func setGroup(*exec.Cmd) {}

// killGroup kills the process; other platforms have no process groups here.
func killGroup(cmd *exec.Cmd, hard bool) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
