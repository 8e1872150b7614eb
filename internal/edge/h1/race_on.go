//go:build race

package h1

// raceEnabled: under the race detector the loop uses net.Conn's calls,
// whose synchronization the detector sees, instead of raw system calls.
const raceEnabled = true
