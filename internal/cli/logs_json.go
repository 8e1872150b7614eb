package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// logLine is one line of a run's log in 'phoenix logs -o json' (JSON
// lines, one object a line, so that -f streams).
type logLine struct {
	Run  int64  `json:"run"`
	Step string `json:"step"`
	Line string `json:"line"`
}

// logLines is an io.Writer that turns a run's text log ("STEP | TEXT" a
// line, or the lines of one --step) into JSON lines on w.
type logLines struct {
	w    io.Writer
	run  int64
	step string // the --step asked for: its lines have no prefix
	buf  []byte // the line not yet complete
}

// Write writes a JSON line for every complete line in p.
func (l *logLines) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		if err := l.emit(line); err != nil {
			return 0, err
		}
	}
}

// Close writes the last line when the log did not end in a line break.
func (l *logLines) Close() error {
	if len(l.buf) == 0 {
		return nil
	}
	line := string(l.buf)
	l.buf = nil
	return l.emit(line)
}

func (l *logLines) emit(line string) error {
	out := logLine{Run: l.run, Step: l.step, Line: line}
	if l.step == "" {
		if step, text, ok := strings.Cut(line, " | "); ok {
			out.Step, out.Line = step, text
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = l.w.Write(append(b, '\n'))
	return err
}
