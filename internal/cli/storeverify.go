package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newStoreVerifyCmd(g *Globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Read back every blob retained deployments use and check it against its sha256 name",
		Long: `Ask the server to read back every blob that a retained deployment uses
(--all: every stored blob), re-hash it and compare it with its name. Blobs
are checked when they are stored, not when they are served (the edge sends
the file as it is), so a byte the disk flipped later is served with the good
ETag until a check like this one finds it.

Each damaged, missing or unreadable blob is listed with the deployments that
use it (project/environment, id, whether it is active) and how to put its
good bytes back. The exit code is non-zero when anything is wrong. The
server also runs this check on its own (--store-scrub-every, weekly by
default) and raises the blob-damaged alert when a blob an active deployment
serves is damaged; each check is audited (store.verify). This command reads
at full speed; the scheduled check at --store-scrub-rate. Needs the gc
permission.`,
		Example: "  phoenix store verify\n  phoenix store verify --all -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := client.Path("store", "verify")
			if all {
				path += "?all=true"
			}
			var rep app.StoreReport
			sp := newSpinner(g.Stderr, "reading the blob store")
			err := g.do(cmd.Context(), "POST", path, nil, &rep)
			sp.Finish()
			if err != nil {
				return err
			}
			if err := g.emit(rep, func(w io.Writer) error { return writeStoreReport(w, &rep) }); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return usererr.New(usererr.Failed, "%d blob(s) damaged or missing in the blob store", len(rep.Problems)).
					WithHint("each one above says how to put its good bytes back; then run phoenix store verify again")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "read every stored blob, not only those retained deployments use")
	return cmd
}

// writeStoreReport is the table of phoenix store verify.
func writeStoreReport(w io.Writer, rep *app.StoreReport) error {
	verdict := "all intact"
	if n := len(rep.Problems); n > 0 {
		verdict = fmt.Sprintf("%d problem(s)", n)
	}
	if _, err := fmt.Fprintf(w, "%d blob(s), %s read: %s\n", rep.Blobs, humanBytes(rep.Bytes), verdict); err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "%s %s: %s\n", p.Digest, p.Problem, p.Error)
		if p.Path != "" {
			fmt.Fprintf(w, "  file: %s\n", p.Path)
		}
		for _, u := range p.Deployments {
			fmt.Fprintf(w, "  used by %s\n", u)
		}
		if len(p.Deployments) == 0 {
			fmt.Fprintln(w, "  used by no retained deployment")
		}
		fmt.Fprintf(w, "  repair: %s\n", p.Repair)
	}
	return nil
}

// spinner shows, on a terminal, that a request without progress reports
// is running and for how long; elsewhere it writes nothing.
type spinner struct {
	stop chan struct{}
	done chan struct{}
}

// newSpinner starts a spinner on w; Finish stops it and clears its line.
func newSpinner(w io.Writer, msg string) *spinner {
	s := &spinner{stop: make(chan struct{}), done: make(chan struct{})}
	if !isTerminal(w) {
		close(s.done)
		return s
	}
	go func() {
		defer close(s.done)
		start, t := time.Now(), time.NewTicker(250*time.Millisecond)
		defer t.Stop()
		frames := `|/-\`
		for i := 0; ; i++ {
			fmt.Fprintf(w, "\r%c %s (%s)", frames[i%len(frames)], msg, time.Since(start).Round(time.Second))
			select {
			case <-s.stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Finish stops the spinner and waits until its line is cleared.
func (s *spinner) Finish() {
	select {
	case <-s.done:
	default:
		close(s.stop)
		<-s.done
	}
}
