package app

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The names of the sockets systemd socket units may pass the server
// (FileDescriptorName=; contrib/systemd/phoenix-*.socket), for
// Options.Listeners.
const (
	SocketAPI     = "api"      // --listen
	SocketEdge    = "edge"     // --edge-listen
	SocketEdgeTLS = "edge-tls" // --edge-tls-listen
)

// checkListeners refuses passed sockets the server would not serve: an
// unknown name, or edge-tls without --edge-tls-listen.
func checkListeners(o Options) error {
	known := []string{SocketAPI, SocketEdge}
	if o.EdgeTLSListen != "" {
		known = append(known, SocketEdgeTLS)
	}
	for name := range o.Listeners {
		if !slices.Contains(known, name) {
			return usererr.New(usererr.Usage, "systemd passed a socket named %q, which this server does not serve", name).
				WithHint("name the sockets %s with FileDescriptorName= in their .socket units (edge-tls needs --edge-tls-listen)",
					strings.Join([]string{SocketAPI, SocketEdge, SocketEdgeTLS}, ", "))
		}
	}
	return nil
}

// socketFlags are the phoenix server flags giving each socket's address.
var socketFlags = map[string]string{SocketAPI: "listen", SocketEdge: "edge-listen", SocketEdgeTLS: "edge-tls-listen"}

// listen is the socket systemd passed as name, or a new TCP listener on
// addr; what names the listener in errors, with the flag (or variable:
// Options.FlagName) that gave addr.
func (a *App) listen(name, what, addr string) (net.Listener, error) {
	if ln, ok := a.opts.Listeners[name]; ok {
		a.log.Info("serving on the socket systemd passed", "socket", name, "addr", ln.Addr().String())
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		flag := socketFlags[name]
		return nil, usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s: cannot listen on %s (%s): %v", what, addr, a.opts.flag(flag), err)).
			WithHint("pick another address with --%s", flag)
	}
	return ln, nil
}
