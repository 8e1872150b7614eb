package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// MaxOutputs caps the outputs file a step writes.
const MaxOutputs = 64 << 10

// stepFile is the file name of a step's log, outputs, ...
func stepFile(id, ext string) string {
	return strings.NewReplacer("/", "__", "\\", "_", "..", "_").Replace(id) + ext
}

func (s *Service) logPath(run int64, step string) string {
	return filepath.Join(s.runDir(run), "steps", stepFile(step, ".log"))
}

// runStep executes one step to its end and records the outcome. An
// approval gate the server stops at stays waiting, for the next leader to
// resume (resume.go).
func (e *execution) runStep(st *spec.Step) {
	ctx, sctx := context.Background(), e.stepCtx(st)
	e.mu.Lock()
	state := e.steps[st.ID]
	if state.Started.IsZero() { // a resumed gate keeps the time it asked
		state.Started = e.s.now()
	}
	if st.Kind() == "approval" {
		state.Status = Waiting // never recorded running: a resume takes it over
	}
	e.mu.Unlock()
	e.save(st.ID)
	e.s.hub.signal(e.run.ID)

	code, size, err := e.perform(sctx, st, state)
	e.mu.Lock()
	state.LogBytes = size
	switch {
	case errors.Is(err, errSuspended):
		state.Status = Waiting
	case err != nil:
		state.Finished, state.ExitCode = e.s.now(), code
		state.Status, state.Error = Failed, executor.WithoutANSI(e.masker.String(err.Error()))
		if cause := context.Cause(sctx); cause != nil && sctx.Err() != nil {
			state.Status = Cancelled
			if errors.Is(cause, errShutdown) {
				state.Status = Interrupted
			}
		}
	default:
		state.Finished, state.ExitCode, state.Status = e.s.now(), code, Succeeded
	}
	if st.Uses == "deploy" {
		if env := e.stepEnv(st); env != "" {
			e.deployed[env] = e.deployed[env] || err == nil
			if id, perr := strconv.ParseInt(state.Outputs["deployment"], 10, 64); err == nil && perr == nil {
				e.deployments[env] = id
			}
		}
	}
	outputs := maps.Clone(state.Outputs)
	e.mu.Unlock()
	if err == nil {
		e.keepFiles(ctx, st.ID, outputs)
	}
	e.save(st.ID)
	e.s.hub.signal(e.run.ID)
}

// perform runs st, or waits at it when it is an approval gate, into its
// log (after what it holds, for a resumed gate); it returns the exit code
// and the log's size.
func (e *execution) perform(sctx context.Context, st *spec.Step, state *Step) (int, int64, error) {
	open := executor.CreateLog
	if e.isResumed(st.ID) {
		open = executor.AppendLog
	}
	lf, err := open(e.s.logPath(e.run.ID, st.ID), e.s.opts.LogCap, func() { e.s.hub.signal(e.run.ID) })
	if err != nil {
		return 0, 0, err
	}
	var code int
	w := executor.NewMaskWriter(lf, e.masker)
	if st.Kind() == "approval" {
		err = e.awaitApproval(sctx, st, w)
	} else {
		e.s.sem <- struct{}{}
		code, err = e.attempts(sctx, st, state, w, lf)
		<-e.s.sem
	}
	suspended := errors.Is(err, errSuspended)
	switch {
	case suspended:
		fmt.Fprintf(w, "[phoenix] the server stopped while the approval was pending\n")
	case err != nil:
		fmt.Fprintf(w, "\n[phoenix] step failed: %v\n", err)
	}
	w.Flush()
	lf.Close()
	if !suspended { // a waiting gate's log goes on after the resume
		e.s.storeLog(context.Background(), e.run.ID, st.ID)
	}
	size, _ := lf.Size()
	return code, size, err
}

// save records step id's state as it is now.
func (e *execution) save(id string) {
	e.mu.Lock()
	cp := *e.steps[id]
	cp.Outputs = maps.Clone(cp.Outputs)
	e.mu.Unlock()
	e.s.saveStep(context.Background(), e.run.ID, &cp)
}

func (e *execution) isResumed(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resumed[id]
}

// attempts runs st up to 1+Retries times with exponential backoff.
func (e *execution) attempts(ctx context.Context, st *spec.Step, state *Step, w io.Writer, lf *executor.LogFile) (int, error) {
	backoff := st.Backoff
	if e.s.opts.Backoff > 0 {
		backoff = e.s.opts.Backoff
	}
	if backoff <= 0 {
		backoff = spec.DefaultBackoff
	}
	for attempt := 0; ; attempt++ {
		e.mu.Lock()
		state.Attempts++
		e.mu.Unlock()
		code, err := e.once(ctx, st, state, w)
		if err == nil || attempt >= st.Retries || ctx.Err() != nil {
			return code, err
		}
		lf.Printf("attempt %d of %d failed: %s; retrying in %s", attempt+1, st.Retries+1, e.masker.String(err.Error()), backoff)
		select {
		case <-ctx.Done():
			return code, err
		case <-e.s.opts.Clock.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// stepEnv is the environment a step acts on.
func (e *execution) stepEnv(st *spec.Step) string {
	if st.Environment != "" {
		return st.Environment
	}
	if len(e.run.Environments) == 1 {
		return e.run.Environments[0]
	}
	return ""
}

// stepContext returns ctx carrying the run and the environment st acts
// on, for the sources st calls (the vault's policy sees who asks).
func (e *execution) stepContext(ctx context.Context, st *spec.Step) context.Context {
	info := e.runInfo()
	info.Environment = e.stepEnv(st)
	return action.WithRun(ctx, info)
}

// once runs one attempt of st.
func (e *execution) once(ctx context.Context, st *spec.Step, state *Step, w io.Writer) (int, error) {
	ctx = e.stepContext(ctx, st)
	outFile := filepath.Join(e.s.runDir(e.run.ID), "steps", stepFile(st.ID, ".out"))
	// Made empty beforehand: a confined step may write it, not create it.
	if err := os.WriteFile(outFile, nil, 0o600); err != nil {
		return 0, err
	}
	env, err := e.environ(ctx, st, outFile)
	if err != nil {
		return 0, err
	}
	workDir := filepath.Join(e.dir, st.Dir)
	var code int
	if st.Uses == "" {
		var res executor.Result
		res, err = executor.Run(ctx, executor.Cmd{Script: spec.Expand(st.Run, e.output), Dir: workDir, Env: env,
			Timeout: st.Timeout, Grace: e.s.opts.Grace, Output: w, Sandbox: e.policy(outFile)})
		code = res.ExitCode
	} else {
		err = e.runAction(ctx, st, w, env, workDir, outFile)
	}
	if perr := e.readOutputs(outFile, state, w); perr != nil && err == nil {
		err = perr
	}
	return code, err
}

func (e *execution) runAction(rctx context.Context, st *spec.Step, w io.Writer, env []string, workDir, outFile string) error {
	a, ok := e.s.opts.Actions.Lookup(st.Uses)
	if !ok {
		return fmt.Errorf("unknown action %q", st.Uses)
	}
	ctx, cancel := rctx, context.CancelFunc(func() {})
	if st.Timeout > 0 {
		ctx, cancel = context.WithTimeout(rctx, st.Timeout)
	}
	defer cancel()
	with := map[string]any{}
	for k, v := range st.With {
		if str, ok := v.(string); ok {
			v = spec.Expand(str, e.output)
		}
		with[k] = v
	}
	sc := &action.Context{Run: e.runInfo(), Step: st, With: with, Dir: e.dir, WorkDir: workDir, Files: e.files,
		Env: env, Config: e.cfg, Log: w,
		Exec: func(ctx context.Context, c executor.Cmd) error {
			c.Dir = firstNonEmpty(c.Dir, workDir)
			if c.Env == nil {
				c.Env = env
			}
			if c.Output == nil {
				c.Output = w
			}
			if c.Grace == 0 {
				c.Grace = e.s.opts.Grace
			}
			if c.Sandbox == nil {
				c.Sandbox = e.policy(outFile)
			}
			_, err := executor.Run(ctx, c)
			return err
		},
		Confine:   func(open ...string) *sandbox.Policy { return e.policy(outFile, open...) },
		SetOutput: func(name, value string) { e.setOutput(st.ID, name, value) },
		Output:    e.output,
		Status:    e.status,
		Mask:      e.masker.Add,
		Secrets:   e.masker.Secrets,
		Secret:    func(ctx context.Context, name string) (string, error) { return e.actionSecret(ctx, st.ID, name) },
		Approvals: e.approvals,
		Deployed: func(env string) bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.deployed[env]
		},
		Deployment: func(env string) int64 {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.deployments[env]
		},
		Checks:        func(env string) bool { return len(healthChecks(e.run, env)) > 0 },
		HealthChecked: func(ctx context.Context, env string) error { return e.healthChecked(ctx, st, env, w) },
		Failed:        func() []*spec.Step { return e.failedAncestors(st) },
		Why:           e.why,
	}
	err := a.Run(ctx, sc)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && rctx.Err() == nil {
		return fmt.Errorf("%w after %s: %v", executor.ErrTimeout, config.FormatDuration(st.Timeout), err)
	}
	return err
}

func (e *execution) runInfo() action.RunInfo {
	r := e.run
	return action.RunInfo{ID: itoa(r.ID), Project: r.Project, Version: r.Version, Commit: r.Commit, Actor: r.Actor,
		Trigger: r.Trigger, Environments: r.Environments, Released: e.released, Event: triggerEvent(r.Inputs),
		Folder: r.Dir, Workflow: r.Workflow}
}

// triggerEvent is the Phoenix event that started a workflow run (kept by
// its retries), nil for other runs; a webhook's event name is GitHub's,
// not one.
func triggerEvent(in Inputs) *action.Event {
	if in.Event == "" || in.Webhook != "" {
		return nil
	}
	return &action.Event{Name: in.Event, Environment: in.Environment, Data: in.Values}
}

// approvals returns how many distinct approvals env's gate in this run
// collected (0 without a gate, or before it passed).
func (e *execution) approvals(env string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.approved[env]
}

func (e *execution) setOutput(step, name, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.steps[step]
	if st.Outputs == nil {
		st.Outputs = map[string]string{}
	}
	st.Outputs[name] = value
}

func (e *execution) output(step, name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st := e.steps[step]; st != nil {
		return st.Outputs[name]
	}
	return ""
}

// readOutputs reads NAME=value lines a run: step wrote to $PHOENIX_OUTPUT,
// and removes the file. An output holding a secret of the run (one the
// logs mask) is not kept, and the step log w says so: outputs are stored
// as they are, in the database, and shown.
func (e *execution) readOutputs(path string, state *Step, w io.Writer) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, MaxOutputs))
	sc.Buffer(make([]byte, 4096), MaxOutputs)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !outputNameOK(k) {
			return fmt.Errorf("$PHOENIX_OUTPUT line %d: want NAME=value with NAME of letters, digits, _ and -", n)
		}
		if e.masker.String(v) != v {
			fmt.Fprintf(w, "[phoenix] output %s holds a secret: not kept (outputs are stored and shown as written)\n", k)
			continue
		}
		e.setOutput(state.ID, k, v)
	}
	return sc.Err()
}

func outputNameOK(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// environ builds a step's environment: the server's, PHOENIX_* run
// variables (and the event that started a workflow), the target environment's env and the step's env (secret:NAME
// and env:NAME values resolved in both) and its secrets. Resolved
// secrets are masked.
func (e *execution) environ(ctx context.Context, st *spec.Step, outFile string) ([]string, error) {
	r := e.run
	vars := map[string]string{"CI": "true", "PHOENIX_RUN": itoa(r.ID), "PHOENIX_PROJECT": r.Project,
		"PHOENIX_VERSION": r.Version, "PHOENIX_COMMIT": r.Commit, "PHOENIX_STEP": st.ID, "PHOENIX_FILES": e.files,
		"PHOENIX_OUTPUT": outFile, "PHOENIX_ENVIRONMENT": e.stepEnv(st)}
	if ev := triggerEvent(r.Inputs); ev != nil {
		// What started the workflow; not the step's environment, which
		// the vault's policy goes by.
		vars["PHOENIX_EVENT"], vars["PHOENIX_EVENT_ENVIRONMENT"] = ev.Name, ev.Environment
	}
	var missing []string
	env := e.envVars(st)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		val, err := e.resolveValue(ctx, spec.Expand(env[k], e.output))
		if err != nil {
			missing = append(missing, k+" ("+err.Error()+")")
			continue
		}
		vars[k] = val
	}
	for _, name := range st.Secrets {
		val, err := e.secret(ctx, name)
		if err != nil {
			missing = append(missing, name+" ("+err.Error()+")")
			continue
		}
		vars[name] = val
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("secrets unavailable: %s", strings.Join(missing, "; "))
	}
	if err := e.confinedEnv(vars); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(e.s.opts.Env)+len(vars))
	for _, kv := range e.s.opts.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "" {
			if _, over := vars[k]; over {
				continue
			}
		}
		out = append(out, kv)
	}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out, nil
}

// envVars are the target environment's env with the step's env over it,
// as written: secret:NAME and env:NAME are resolved in either.
func (e *execution) envVars(st *spec.Step) map[string]string {
	vars := map[string]string{}
	if env := e.stepEnv(st); env != "" && e.cfg != nil && e.cfg.Environments[env] != nil {
		maps.Copy(vars, e.cfg.Environments[env].Env)
	}
	maps.Copy(vars, st.Env)
	return vars
}

// resolveValue resolves secret:NAME (the secret source) and env:NAME (the
// server's environment); other values are literal.
func (e *execution) resolveValue(ctx context.Context, v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "secret:"); ok {
		return e.secret(ctx, name)
	}
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		val, err := e.s.serverEnv(name)
		if err != nil {
			return "", err
		}
		e.masker.Add(val)
		return val, nil
	}
	return v, nil
}

// serverEnv is env:NAME: the variable of the environment steps start
// from (Options.Env), so a step cannot name one of the server's own
// credentials, which that environment leaves out, and receive it.
func (s *Service) serverEnv(name string) (string, error) {
	for i := len(s.opts.Env) - 1; i >= 0; i-- {
		if k, val, _ := strings.Cut(s.opts.Env[i], "="); k == name {
			return val, nil
		}
	}
	if _, set := os.LookupEnv(name); set {
		return "", fmt.Errorf("environment variable %s is the server's own and is not passed to steps", name)
	}
	return "", fmt.Errorf("environment variable %s is not set", name)
}

// secret resolves a secret a step declares and masks it; one too short
// to mask is refused.
func (e *execution) secret(ctx context.Context, name string) (string, error) {
	v, err := e.fetchSecret(ctx, name)
	if err != nil {
		return "", err
	}
	if len(v) < executor.MinSecretLen {
		return "", fmt.Errorf("secret %s is shorter than %d characters and could not be hidden in logs", name, executor.MinSecretLen)
	}
	e.masker.Secret(v)
	return v, nil
}

// fetchSecret reads secret name from the server's secret source.
func (e *execution) fetchSecret(ctx context.Context, name string) (string, error) {
	src := e.s.opts.Deps.Secrets
	if src == nil {
		return "", fmt.Errorf("no secret source for %s", name)
	}
	return src.Secret(ctx, name)
}
