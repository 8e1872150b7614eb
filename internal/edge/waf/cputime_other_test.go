//go:build !unix

package waf

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }
