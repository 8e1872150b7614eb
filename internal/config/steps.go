package config

import (
	"regexp"
	"slices"
	"strings"
)

// Pipeline replaces the built-in release pipeline with custom stages.
type Pipeline struct {
	Stages []Stage `yaml:"stages" doc:"Stages; a stage starts when the stages it needs have succeeded."`
}

// Stage is a group of steps with shared settings.
type Stage struct {
	Name        string   `yaml:"name" required:"true" pattern:"name" doc:"Stage name, unique; referenced by needs."`
	Needs       []string `yaml:"needs" doc:"Stages that must succeed first; stages without needs start at once."`
	If          string   `yaml:"if" doc:"Condition to run, e.g. success(), failure(), always()."`
	Environment string   `yaml:"environment" pattern:"slug" doc:"Environment the stage deploys to; its protection rules apply."`
	Timeout     Duration `yaml:"timeout" doc:"Time limit for the stage; 0 means the sum of its steps' limits."`
	Env         EnvMap   `yaml:"env" doc:"Environment variables for every step."`
	Secrets     []string `yaml:"secrets" pattern:"envvar" doc:"Vault secrets exposed to every step."`
	Steps       []Step   `yaml:"steps" required:"true" doc:"Steps of the stage."`
}

func (p *Pipeline) validate(v *validator) {
	v.uniqueNames("pipeline.stages", len(p.Stages), func(i int) string { return p.Stages[i].Name })
	var ids []string // a pipeline's step IDs: stage/step
	for _, st := range p.Stages {
		for _, s := range st.Steps {
			ids = append(ids, st.Name+"/"+s.Name)
		}
	}
	nodes := make([]dagNode, len(p.Stages))
	for i, s := range p.Stages {
		sp := indexPath("pipeline.stages", i)
		if s.Name == "" {
			v.errorf(sp+".name", "name the stage, e.g. build", "is required")
		}
		if len(s.Steps) == 0 {
			v.errorf(sp+".steps", "add at least one step", "a stage needs steps")
		}
		v.envRef(sp+".environment", s.Environment)
		v.condition(sp+".if", s.If)
		validateSteps(v, sp+".steps", s.Steps, s.Name+"/", ids)
		warnDisabledChecks(v, sp+".steps", s.Steps)
		nodes[i] = dagNode{name: s.Name, needs: s.Needs}
	}
	checkDAG(v, "pipeline.stages", nodes, "stage")
}

// warnDisabledChecks warns of each step that uses check/NAME while
// checks.NAME.enabled is false: the step names the check, so it runs
// anyway (as 'phoenix check NAME' does), whatever the setting says. The
// warning points at the step's uses and says where the setting is.
func warnDisabledChecks(v *validator, p string, steps []Step) {
	for i, s := range steps {
		name, ok := strings.CutPrefix(s.Uses, "check/")
		if !ok {
			continue
		}
		if on, known := v.cfg.Checks.Enabled(name); !known || on {
			continue
		}
		setting := "checks." + name + ".enabled is false"
		if at := v.cfg.Where("checks." + name + ".enabled"); at != "" {
			setting += " (" + at + ")"
		}
		v.warnf(indexPath(p, i)+".uses", "remove the step to skip the check, or the setting to run it everywhere",
			"%s runs although %s: a step that names a check runs it anyway", s.Uses, setting)
	}
}

var actionRx = regexp.MustCompile(`^[a-z][a-z0-9-]*([./][a-z0-9-]+)*$`)

// Actions are the built-in actions a step may use, sorted: the pipeline's
// registry (action.Builtins) holds these, and a test there keeps the two
// the same. A step's uses is checked against them when the file loads, so
// phoenix validate reports an unknown one with its position, not only the
// release that would run it.
var Actions = []string{
	"backup", "backup/verify", "build", "check/audit", "check/licenses", "check/sbom", "check/secrets",
	"create-artifact", "deploy", "dns/update", "fetch-secrets", "health-check", "install", "load-test", "monitoring",
	"notify", "purge-cache", "register-workflows", "release", "rollback", "test", "test-report", "validate-tag",
}

// OutputRef matches a reference to an earlier step's output,
// ${{ steps.ID.outputs.NAME }}: group 1 is the step ID, group 2 the name.
var OutputRef = regexp.MustCompile(`\$\{\{\s*steps\.([A-Za-z0-9_./-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}`)

// StepCondition reads a step's or stage's if: success(), failure(),
// always() or cancelled(), also inside ${{ }}, and "" for success. It
// returns the condition's name ("failure"), or false for anything else.
func StepCondition(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(s, "}}"), "${{"))
	switch s {
	case "":
		return "success", true
	case "success()", "failure()", "always()", "cancelled()":
		return strings.TrimSuffix(s, "()"), true
	}
	return "", false
}

var stepConditions = []string{"success()", "failure()", "always()", "cancelled()"}

// condition reports an if that is not a step condition.
func (v *validator) condition(p, s string) {
	if _, ok := StepCondition(s); !ok {
		v.errorf(p, orHint(didYouMean(strings.TrimSpace(s), stepConditions), "use success(), failure(), always() or cancelled()"),
			"unknown condition %q", clip(s))
	}
}

// validateSteps checks a list of steps and their needs graph. prefix is
// what makes a step's name its ID ("build/" in stage build, "" in a
// workflow), ids every ID its outputs may be read by (${{ steps.ID... }});
// nil means the list's own steps.
func validateSteps(v *validator, p string, steps []Step, prefix string, ids []string) {
	if ids == nil {
		for _, s := range steps {
			ids = append(ids, prefix+s.Name)
		}
	}
	v.uniqueNames(p, len(steps), func(i int) string { return steps[i].Name })
	nodes := make([]dagNode, len(steps))
	for i := range steps {
		s, sp := &steps[i], indexPath(p, i)
		if s.Name == "" {
			v.errorf(sp+".name", "name the step", "is required")
		}
		switch {
		case s.Run == "" && s.Uses == "":
			v.errorf(sp, "add run: <command> or uses: <action>", "a step needs run or uses")
		case s.Run != "" && s.Uses != "":
			v.errorf(sp, "split it into two steps", "a step has either run or uses, not both")
		case s.Uses != "" && !actionRx.MatchString(s.Uses):
			v.errorf(sp+".uses", "action names are lowercase, e.g. notify or check/audit", "%q is not an action name", clip(s.Uses))
		case s.Uses == "approval":
			v.errorf(sp+".uses", "set environments.NAME.protection.approvals: a stage with that environment waits at a gate before its steps",
				"approval is not an action a step can use")
		case s.Uses != "" && !slices.Contains(Actions, s.Uses):
			v.errorf(sp+".uses", orHint(didYouMean(s.Uses, Actions), "see the built-in actions in docs/pipelines.md"),
				"unknown action %q", clip(s.Uses))
		}
		v.condition(sp+".if", s.If)
		outputRefs(v, sp, s, ids)
		if len(s.With) > 0 && s.Uses == "" {
			v.errorf(sp+".with", "with gives inputs to a uses action", "with needs uses")
		}
		if s.Uses == "notify" {
			validateNotifyInputs(v, sp+".with", s.With)
		}
		if s.Uses == "load-test" {
			validateLoadTestInputs(v, sp+".with", s.With, s.Timeout.D())
		}
		if s.Timeout < 0 {
			v.errorf(sp+".timeout", "", "must not be negative")
		}
		if s.Dir != "" {
			v.relPath(sp+".dir", s.Dir)
		}
		nodes[i] = dagNode{name: s.Name, needs: s.Needs}
	}
	checkDAG(v, p, nodes, "step")
}

// validateNotifyInputs checks that a notify step names existing channels.
func validateNotifyInputs(v *validator, p string, with map[string]any) {
	ch, ok := with["channel"].(string)
	if !ok {
		v.errorf(p+".channel", "name a channel from notifications.channels", "the notify action needs a channel")
		return
	}
	v.channelRef(p+".channel", ch)
}

// dagNode is one named item with dependencies.
type dagNode struct {
	name  string
	needs []string
}

// checkDAG reports unknown and self references and dependency cycles.
func checkDAG(v *validator, p string, nodes []dagNode, what string) {
	index := map[string]int{}
	var names []string
	for i, n := range nodes {
		if _, dup := index[n.name]; !dup && n.name != "" {
			index[n.name] = i
			names = append(names, n.name)
		}
	}
	for i, n := range nodes {
		for j, need := range n.needs {
			np := indexPath(indexPath(p, i)+".needs", j)
			if _, ok := index[need]; !ok {
				v.errorf(np, orHint(didYouMean(need, names), "needs names a "+what+" in the same list"),
					"unknown %s %q", what, clip(need))
			} else if need == n.name {
				v.errorf(np, "remove it", "a %s cannot need itself", what)
			}
		}
	}
	if cycle := findCycle(nodes, index); cycle != nil {
		v.errorf(indexPath(p, index[cycle[0]])+".needs", "remove one of these needs",
			"%s dependencies form a cycle: %s", what, strings.Join(cycle, " -> "))
	}
}

// findCycle returns the names on one dependency cycle (first name repeated
// at the end), or nil. Self-references are reported elsewhere.
func findCycle(nodes []dagNode, index map[string]int) []string {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(nodes))
	var stack []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = active
		stack = append(stack, nodes[i].name)
		for _, need := range nodes[i].needs {
			j, ok := index[need]
			if !ok || j == i {
				continue
			}
			if state[j] == active {
				start := slices.Index(stack, need)
				return append(slices.Clone(stack[start:]), need)
			}
			if state[j] == unseen {
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return nil
	}
	for i := range nodes {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// outputRefs reports each ${{ steps.ID.outputs.NAME }} in a step's run,
// env values and string inputs whose ID is not one of ids.
func outputRefs(v *validator, sp string, s *Step, ids []string) {
	check := func(p, text string) {
		for _, m := range OutputRef.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(ids, m[1]) {
				hint := didYouMean(m[1], ids)
				if i := slices.IndexFunc(ids, func(id string) bool { return strings.HasSuffix(id, "/"+m[1]) }); hint == "" && i >= 0 {
					hint = "did you mean " + ids[i] + "? a pipeline's steps are stage/step"
				}
				v.errorf(p, orHint(hint, "refer to a step of the same workflow by its name, of the pipeline by stage/step"),
					"refers to the outputs of unknown step %q", clip(m[1]))
			}
		}
	}
	check(sp+".run", s.Run)
	for _, k := range sortedKeys(s.Env) {
		check(joinPath(sp+".env", k), s.Env[k])
	}
	for _, k := range sortedKeys(s.With) {
		if str, ok := s.With[k].(string); ok {
			check(joinPath(sp+".with", k), str)
		}
	}
}
