package executor

import (
	"fmt"
	"os"
	"sync"
)

// DefaultLogCap is the default size limit of one step's stored log.
const DefaultLogCap = 16 << 20

// LogFile is a step's stored log: an append-only file that keeps at most
// Cap bytes. Past the cap, output is counted and dropped (the process is
// never blocked), and a note saying so ends the file. OnWrite, when set, is
// called after every write that reached the file, so live followers wake.
type LogFile struct {
	mu      sync.Mutex
	f       *os.File
	cap     int64
	n       int64
	dropped int64
	onWrite func()
	closed  bool
}

// CreateLog creates (truncating) the log file at path, 0600.
func CreateLog(path string, cap int64, onWrite func()) (*LogFile, error) {
	return openLog(path, cap, onWrite, os.O_TRUNC)
}

// AppendLog opens the log file at path to write after what it holds
// (creating it, 0600, when missing): a step that goes on after a restart
// (an approval gate) keeps its log. What it holds counts towards cap.
func AppendLog(path string, cap int64, onWrite func()) (*LogFile, error) {
	return openLog(path, cap, onWrite, 0)
}

func openLog(path string, cap int64, onWrite func(), flag int) (*LogFile, error) {
	if cap <= 0 {
		cap = DefaultLogCap
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("step log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("step log: %w", err)
	}
	return &LogFile{f: f, cap: cap, n: fi.Size(), onWrite: onWrite}, nil
}

// Write appends what fits under the cap and drops the rest.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return len(p), nil
	}
	room := l.cap - l.n
	var err error
	wrote := false
	if room > 0 {
		k := min(int64(len(p)), room)
		_, err = l.f.Write(p[:k])
		l.n += k
		l.dropped += int64(len(p)) - k
		wrote = true
		if l.n >= l.cap {
			fmt.Fprintf(l.f, "\n[phoenix: log capped at %d bytes; further output is dropped]\n", l.cap)
		}
	} else {
		l.dropped += int64(len(p))
	}
	cb := l.onWrite
	l.mu.Unlock()
	if wrote && cb != nil {
		cb()
	}
	return len(p), err
}

// Full reports whether the cap is reached.
func (l *LogFile) Full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n >= l.cap
}

// Printf writes a line of Phoenix's own (a retry, a timeout) into the log.
func (l *LogFile) Printf(format string, args ...any) {
	fmt.Fprintf(l, "[phoenix] "+format+"\n", args...)
}

// Size returns the bytes written and the bytes dropped.
func (l *LogFile) Size() (written, dropped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.dropped
}

// Close records how much was dropped and closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	if l.dropped > 0 {
		fmt.Fprintf(l.f, "[phoenix: %d bytes of output were dropped]\n", l.dropped)
	}
	err := l.f.Close()
	cb := l.onWrite
	l.mu.Unlock()
	if cb != nil {
		cb()
	}
	return err
}
