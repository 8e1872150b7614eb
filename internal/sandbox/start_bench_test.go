//go:build linux

package sandbox

import (
	"os/exec"
	"testing"
)

// BenchmarkStart: what confining adds to starting a step's process: the
// rules (listing the folders on the way to the data dir), the ruleset and
// a thread of its own. The data dir here is under /tmp, as in tests.
func BenchmarkStart(b *testing.B) {
	p := Policy{Hidden: []string{b.TempDir()}}
	for _, confined := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "confined"}[confined]
		b.Run(name, func(b *testing.B) {
			if _, err := Available(); confined && err != nil {
				b.Skip(err)
			}
			for b.Loop() {
				cmd := exec.Command("/bin/true")
				var err error
				if confined {
					err = Start(cmd, p)
				} else {
					err = cmd.Start()
				}
				if err != nil {
					b.Fatal(err)
				}
				cmd.Wait()
			}
		})
	}
}
