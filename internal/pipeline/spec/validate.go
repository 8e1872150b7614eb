package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/phoenixvc/phoenix/internal/suggest"
)

// Problem is one thing wrong with a plan.
type Problem struct {
	Step    string `json:"step,omitempty"` // step ID, "" for the plan
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func (p Problem) String() string {
	s := p.Message
	if p.Step != "" {
		s = "step " + p.Step + ": " + s
	}
	if p.Hint != "" {
		s += " (hint: " + p.Hint + ")"
	}
	return s
}

// Problems is every problem of a plan; its Error lists one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks p and returns a Problems error listing every problem:
// duplicate or empty IDs, needs naming unknown steps or the step itself,
// each dependency cycle, unknown actions (known reports whether an action
// exists), bad conditions, negative timeouts, out-of-range retries, and
// output references to steps that are not needed.
func Validate(p *Plan, known func(action string) bool) error {
	var ps Problems
	add := func(step, hint, format string, args ...any) {
		ps = append(ps, Problem{Step: step, Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	if len(p.Steps) == 0 {
		add("", "add steps", "the plan has no steps")
	}
	ids := map[string]bool{}
	var names []string
	for i, s := range p.Steps {
		switch {
		case s.ID == "":
			add(fmt.Sprintf("#%d", i+1), "name the step", "has no name")
		case ids[s.ID]:
			add(s.ID, "step names are unique in their list", "is defined twice")
		}
		ids[s.ID] = true
		names = append(names, s.ID)
	}
	for _, s := range p.Steps {
		validateStep(s, ids, names, known, add)
	}
	for _, c := range cycles(p) {
		add(c[0], "remove one of these needs", "dependencies form a cycle: %s", strings.Join(append(c, c[0]), " -> "))
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func validateStep(s *Step, ids map[string]bool, names []string, known func(string) bool,
	add func(step, hint, format string, args ...any)) {
	for _, n := range s.Needs {
		switch {
		case n == s.ID:
			add(s.ID, "remove it", "needs itself")
		case !ids[n]:
			add(s.ID, hintFor(n, names, "needs names a step of the same plan"), "needs unknown step %q", n)
		}
	}
	switch {
	case s.Run == "" && s.Uses == "":
		add(s.ID, "add run: <command> or uses: <action>", "has neither run nor uses")
	case s.Run != "" && s.Uses != "":
		add(s.ID, "split it into two steps", "has both run and uses")
	case s.Uses != "" && s.Uses != ApprovalAction && known != nil && !known(s.Uses):
		add(s.ID, "see docs/pipelines.md for the built-in actions", "unknown action %q", s.Uses)
	}
	if s.If != Success && s.If != Failure && s.If != Always && s.If != Cancelled {
		add(s.ID, "use success(), failure(), always() or cancelled()", "unknown condition %q", s.If)
	}
	if s.Timeout < 0 {
		add(s.ID, "", "timeout must not be negative")
	}
	if s.Retries < 0 || s.Retries > 10 {
		add(s.ID, "", "retries must be between 0 and 10, got %d", s.Retries)
	}
	if s.Uses == ApprovalAction && (s.Environment == "" || s.Approvals < 1) {
		add(s.ID, "", "an approval gate needs an environment and at least one approval")
	}
	texts := []string{s.Run}
	for _, v := range s.Env {
		texts = append(texts, v)
	}
	for _, v := range s.With {
		if str, ok := v.(string); ok {
			texts = append(texts, str)
		}
	}
	for _, t := range texts {
		for _, ref := range References(t) {
			if !ids[ref] {
				add(s.ID, hintFor(ref, names, ""), "refers to the outputs of unknown step %q", ref)
			}
		}
	}
}

// hintFor suggests a close name.
func hintFor(name string, names []string, fallback string) string {
	best, bestD := "", 4
	for _, n := range names {
		if d := suggest.Distance(strings.ToLower(name), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	return fallback
}

// cycles returns every dependency cycle: the steps of each strongly
// connected component with more than one step (Tarjan), sorted.
func cycles(p *Plan) [][]string {
	index := map[string]int{}
	for i, s := range p.Steps {
		if _, dup := index[s.ID]; !dup {
			index[s.ID] = i
		}
	}
	n := len(p.Steps)
	idx, low := make([]int, n), make([]int, n)
	on := make([]bool, n)
	for i := range idx {
		idx[i] = -1
	}
	var stack []int
	var out [][]string
	counter := 0
	var strong func(v int)
	strong = func(v int) {
		idx[v], low[v] = counter, counter
		counter++
		stack = append(stack, v)
		on[v] = true
		for _, need := range p.Steps[v].Needs {
			w, ok := index[need]
			if !ok || w == v {
				continue
			}
			if idx[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], idx[w])
			}
		}
		if low[v] == idx[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, p.Steps[w].ID)
				if w == v {
					break
				}
			}
			if len(comp) > 1 {
				slices.Reverse(comp)
				out = append(out, comp)
			}
		}
	}
	for i := range p.Steps {
		if idx[i] < 0 {
			strong(i)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Order returns the steps in a topological order (needs first); it
// assumes Validate passed.
func (p *Plan) Order() []*Step {
	done := map[string]bool{}
	var out []*Step
	for len(out) < len(p.Steps) {
		progressed := false
		for _, s := range p.Steps {
			if done[s.ID] {
				continue
			}
			ready := true
			for _, n := range s.Needs {
				ready = ready && done[n]
			}
			if ready {
				done[s.ID] = true
				out = append(out, s)
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	return out
}

// Ancestors returns every step id reachable through needs from id.
func (p *Plan) Ancestors(id string) map[string]bool {
	out := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		s := p.Step(x)
		if s == nil {
			return
		}
		for _, n := range s.Needs {
			if !out[n] {
				out[n] = true
				walk(n)
			}
		}
	}
	walk(id)
	return out
}
