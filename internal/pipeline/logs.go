package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/suggest"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// hub wakes log followers when a run's logs or state change.
type hub struct {
	mu sync.Mutex
	ch map[int64]chan struct{}
}

func newHub() *hub { return &hub{ch: map[int64]chan struct{}{}} }

// wait returns a channel closed at the next signal for run.
func (h *hub) wait(run int64) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.ch[run]
	if !ok {
		c = make(chan struct{})
		h.ch[run] = c
	}
	return c
}

func (h *hub) signal(run int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.ch[run]; ok {
		close(c)
		delete(h.ch, run)
	}
}

// LogOptions selects what Logs writes.
type LogOptions struct {
	Step   string // one step's log, raw; "" for every step, each line prefixed "step | "
	Follow bool   // keep writing until the run has finished
}

// Logs writes the stored logs of run id to w, steps in plan order, after
// a line for each step of a stage the plan left out saying why. With
// Follow it streams new output as the steps write it and returns once the
// run is finished and everything is written, or ctx ends.
func (s *Service) Logs(ctx context.Context, id int64, o LogOptions, w io.Writer) error {
	first, err := s.loadRun(ctx, id)
	if err != nil {
		return err // no such run
	}
	if err := hasStep(first, o.Step); err != nil {
		return err
	}
	if err := writeOmitted(first.Plan, o.Step, w); err != nil {
		return err
	}
	if err := s.writeRetryNote(ctx, first, o.Step, w); err != nil {
		return err
	}
	offsets := map[string]int64{}
	partial := map[string][]byte{}
	for {
		wake := s.hub.wait(id)
		r, err := s.loadRun(ctx, id)
		if err != nil {
			return err
		}
		done := Finished(r.Status)
		for _, st := range r.Plan.Steps {
			if o.Step != "" && st.ID != o.Step {
				continue
			}
			if err := s.copyNew(ctx, st.ID, id, o.Step == "", offsets, partial, w); err != nil {
				return err
			}
		}
		if !o.Follow || done {
			for step, rest := range partial {
				if len(rest) > 0 {
					writePrefixed(w, step, append(rest, '\n'))
				}
			}
			return s.noteMissing(ctx, id, o.Step, offsets, w)
		}
		if f, ok := w.(interface{ Flush() }); ok {
			f.Flush()
		}
		if err := waitChange(ctx, wake); err != nil {
			return err
		}
	}
}

// writeOmitted writes a line for each step of the stages plan left out
// (only step's, raw, when step is set), so that a release to staging
// says where its production stage went rather than miss it silently.
// hasStep refuses a step the run does not have (nor had, in a stage it
// left out): its log would be empty, like that of a step with no output,
// and a mistyped name (build/compile for the default pipeline's build)
// looked like a silent step.
func hasStep(r *Run, step string) error {
	if step == "" {
		return nil
	}
	var ids []string
	for _, st := range r.Plan.Steps {
		ids = append(ids, st.ID)
	}
	for _, om := range r.Plan.Omitted {
		ids = append(ids, om.Steps...)
	}
	if slices.Contains(ids, step) {
		return nil
	}
	e := usererr.New(usererr.NotFound, "run %d has no step %q", r.ID, step)
	if best := suggest.Best(step, ids); best != "" {
		return e.WithHint("did you mean %s? its steps: %s", best, strings.Join(ids, ", "))
	}
	return e.WithHint("its steps: %s", strings.Join(ids, ", "))
}

// writeRetryNote writes, before the steps' logs of a retry (all of
// them: step is ""), what it builds: the commit of the run it retries
// again, in a fresh checkout; or, for a run in place, a line saying so
// when it was made at another commit than the run it retries: it built
// what the folder held then, not what the failed run built. Nothing of
// the latter when that run is gone (pruned).
func (s *Service) writeRetryNote(ctx context.Context, r *Run, step string, w io.Writer) error {
	if r.RetryOf == 0 || step != "" {
		return nil
	}
	if r.Checkout {
		_, err := fmt.Fprintf(w, "[phoenix] retry of run %d: commit %s again, in a fresh checkout\n", r.RetryOf, r.Commit)
		return err
	}
	prev, err := s.loadRun(ctx, r.RetryOf)
	if err != nil || prev.Commit == r.Commit {
		return nil
	}
	_, err = fmt.Fprintf(w, "[phoenix] retry of run %d at commit %s (run %d was at %s)\n",
		r.RetryOf, orUnknown(r.Commit), r.RetryOf, orUnknown(prev.Commit))
	return err
}

// orUnknown is commit, or "unknown" for a run of no git repository.
func orUnknown(commit string) string {
	return firstNonEmpty(commit, "unknown")
}

func writeOmitted(plan *spec.Plan, step string, w io.Writer) error {
	for _, om := range plan.Omitted {
		line := []byte("[phoenix] skipped: " + om.Why() + "\n")
		for _, id := range om.Steps {
			var err error
			switch step {
			case "":
				err = writePrefixed(w, id, line)
			case id:
				_, err = w.Write(line)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// followPoll is how often a log follower looks again without a signal: a
// run executed by another server sharing the database (replicas.go)
// signals nothing here.
const followPoll = time.Second

// waitChange waits for wake, followPoll, or the end of ctx.
func waitChange(ctx context.Context, wake <-chan struct{}) error {
	t := time.NewTimer(followPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-t.C:
	}
	return nil
}

// copyNew writes what step's log gained since the last call: from the
// file in this server's data dir, else (the step ran on another server
// sharing the database) from the database once the step has finished.
func (s *Service) copyNew(ctx context.Context, step string, run int64, prefix bool, offsets map[string]int64, partial map[string][]byte, w io.Writer) error {
	f, err := os.Open(s.logPath(run, step))
	if err != nil {
		return s.copyStored(ctx, step, run, prefix, offsets, partial, w)
	}
	defer f.Close()
	if _, err := f.Seek(offsets[step], io.SeekStart); err != nil {
		return err
	}
	return copyFrom(f, step, prefix, offsets, partial, w)
}

// copyStored writes step's log stored in the database, once.
func (s *Service) copyStored(ctx context.Context, step string, run int64, prefix bool, offsets map[string]int64, partial map[string][]byte, w io.Writer) error {
	if offsets[step] > 0 {
		return nil
	}
	data, ok, err := s.storedLog(ctx, run, step)
	if err != nil || !ok || len(data) == 0 {
		return err // not started, not finished, or not stored
	}
	return copyFrom(bytes.NewReader(data), step, prefix, offsets, partial, w)
}

// copyFrom writes what r holds, raw or with each whole line prefixed by
// step (a line's unfinished end waits in partial).
func copyFrom(r io.Reader, step string, prefix bool, offsets map[string]int64, partial map[string][]byte, w io.Writer) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			offsets[step] += int64(n)
			if !prefix {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return werr
				}
			} else {
				data := append(partial[step], buf[:n]...)
				i := bytes.LastIndexByte(data, '\n')
				if i >= 0 {
					if werr := writePrefixed(w, step, data[:i+1]); werr != nil {
						return werr
					}
				}
				partial[step] = append([]byte(nil), data[i+1:]...)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func writePrefixed(w io.Writer, step string, lines []byte) error {
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		b.WriteString(step)
		b.WriteString(" | ")
		b.Write(line)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// noteMissing writes a line for each step (of step, when given) that
// wrote a log this server has neither as a file nor in the database: a
// run from before the servers shared the database (or of a server alone
// on it, which stores no logs), asked of another server, or a step cut
// short with the server running it. Without it the command printed
// nothing and exited 0, as for a step that printed nothing.
func (s *Service) noteMissing(ctx context.Context, id int64, step string, offsets map[string]int64, w io.Writer) error {
	steps, err := s.loadSteps(ctx, id)
	if err != nil {
		return err
	}
	where := ""
	for _, st := range steps {
		if st.LogBytes == 0 || offsets[st.ID] > 0 || (step != "" && st.ID != step) {
			continue
		}
		if where == "" { // asked only when a log is missing
			where = "the server that ran it"
			if runner, _ := s.Runner(ctx, id); runner != "" {
				where += " (" + runner + ")"
			}
		}
		note := fmt.Sprintf("[phoenix: this step's log (%d bytes) is neither on this server nor stored in the database: ask %s with --server; a server stopped while the step ran keeps none]\n", st.LogBytes, where)
		if step != "" {
			_, err = io.WriteString(w, note)
		} else {
			err = writePrefixed(w, st.ID, []byte(note))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
