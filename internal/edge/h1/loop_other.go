//go:build !linux

package h1

import (
	"errors"
	"io"
	"net"
	"os"
)

// Off Linux every connection is served by its own goroutine.
const loopSupported = false

type loopState struct{}

type loop struct{ stopped chan struct{} }

func (l *loop) wakeUp() {}

func (c *conn) inLoop() bool { return false }

var errNoLoop = errors.New("h1: event loops need Linux")

func (s *Server) serveLoops(*net.TCPListener) error                         { return errNoLoop }
func (c *conn) loopFlush() error                                            { return errNoLoop }
func (c *conn) loopWrite2(_, _ []byte) error                                { return errNoLoop }
func (c *conn) loopSendFrom(io.Reader) (int64, error)                       { return 0, errNoLoop }
func (c *conn) loopSendSection(*os.File, int64, int64, bool) (int64, error) { return 0, errNoLoop }
