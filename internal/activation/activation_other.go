//go:build !unix

package activation

import "net"

// Listeners returns no sockets: systemd socket activation is for Unix.
func Listeners() (map[string]net.Listener, error) { return map[string]net.Listener{}, nil }
