// Package e2e tests the phoenix binary as a user runs it: built once per
// test run, started as real child processes on loopback ports, talked to
// over HTTP and through its own CLI.
package e2e
