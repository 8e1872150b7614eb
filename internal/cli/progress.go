package cli

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// bar is a byte progress bar on a terminal, silent elsewhere.
type bar struct {
	w   io.Writer
	msg string
	pb  *progressbar.ProgressBar
}

func newBar(w io.Writer, msg string) *bar { return &bar{w: w, msg: msg} }

func (b *bar) Start(total int64, blobs int) {
	if !isTerminal(b.w) || total == 0 {
		return
	}
	b.pb = progressbar.NewOptions64(total, progressbar.OptionSetWriter(b.w), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription(b.msg), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100e6))
}

func (b *bar) Add(n int64) {
	if b.pb != nil {
		b.pb.Add64(n)
	}
}

func (b *bar) Done() {
	if b.pb != nil {
		b.pb.Finish()
	}
}

// set moves the bar to n of total (for callbacks that report totals).
func (b *bar) set(n, total int64) {
	if b.pb == nil {
		b.Start(total, 0)
	}
	if b.pb != nil {
		b.pb.Set64(n)
	}
}
