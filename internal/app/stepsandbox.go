package app

import (
	"github.com/phoenixvc/phoenix/internal/sandbox"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Step sandbox modes (Options.StepSandbox).
const (
	SandboxAuto = "auto"
	SandboxOn   = "on"
	SandboxOff  = "off"
)

// sandboxAvailable is sandbox.Available; tests stand in a kernel
// without Landlock.
var sandboxAvailable = sandbox.Available

// stepHidden returns what pipeline steps may not reach: the data dir and
// Options.StepHidden, or nil when steps run unconfined (off, or auto on a
// kernel that cannot confine: said once in the log).
func (a *App) stepHidden() ([]string, error) {
	mode := a.opts.StepSandbox
	switch mode {
	case "", SandboxAuto, SandboxOn:
	case SandboxOff:
		a.log.Warn("pipeline steps are not confined: they can read the data dir and the server's key files", "why", a.opts.flag("step-sandbox")+" off")
		return nil, nil
	default:
		return nil, usererr.New(usererr.Usage, "%s %q is not auto, on or off", a.opts.flag("step-sandbox"), mode)
	}
	abi, err := sandboxAvailable()
	if err != nil && mode == SandboxOn {
		return nil, usererr.Wrap(usererr.Usage, err, a.opts.flag("step-sandbox")+" on: "+err.Error()).
			WithHint("run Phoenix on Linux 5.19 or later with Landlock enabled, or start it with --step-sandbox auto")
	}
	if err != nil {
		a.log.Warn("pipeline steps are not confined: they can read the data dir and the server's key files", "why", err.Error())
		return nil, nil
	}
	a.log.Debug("pipeline steps confined", "landlock_abi", abi)
	return append([]string{a.opts.DataDir}, a.opts.StepHidden...), nil
}
