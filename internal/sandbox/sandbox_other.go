//go:build !linux

package sandbox

import (
	"fmt"
	"os/exec"
	"runtime"
)

// Available reports that only Linux (Landlock) can confine processes.
func Available() (int, error) {
	return 0, fmt.Errorf("%w on %s: only on Linux (Landlock)", ErrUnsupported, runtime.GOOS)
}

// Start refuses: see Available.
func Start(*exec.Cmd, Policy) error {
	_, err := Available()
	return err
}
