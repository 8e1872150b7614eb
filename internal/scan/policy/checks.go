package policy

import (
	"fmt"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Check is one of phoenix.yaml's checks and whether the project runs it.
type Check struct {
	Name    string // audit, licenses, secrets or sbom: checks.NAME, check/NAME, phoenix check NAME
	Enabled bool
	// Disabled names the setting that turned the check off and where it
	// is, e.g. "checks.audit.enabled is false (phoenix.yaml:7:5)"; "" when
	// the check is enabled.
	Disabled string
	// At is where checks.NAME.enabled is set, FILE:LINE:COL; "" when the
	// file does not set it (or cfg was not read from a file).
	At string
}

// Setting is the field that turns the check on and off: checks.NAME.enabled.
func (c Check) Setting() string { return "checks." + c.Name + ".enabled" }

// Checks are the four checks in the order phoenix check and the default
// release plan run them, each enabled unless checks.NAME.enabled is false.
// A nil cfg enables them all. It is the one place both decide which
// checks run.
func Checks(cfg *config.Config) []Check {
	if cfg == nil {
		cfg = config.Default()
	}
	out := make([]Check, 0, len(config.CheckNames))
	for _, name := range config.CheckNames {
		c := Check{Name: name}
		c.Enabled, _ = cfg.Checks.Enabled(name)
		c.At = cfg.Where(c.Setting())
		if !c.Enabled {
			c.Disabled = c.disabledBy()
		}
		out = append(out, c)
	}
	return out
}

// Lookup is check name as Checks(cfg) has it; ok is false for a name that
// is no check.
func Lookup(cfg *config.Config, name string) (c Check, ok bool) {
	for _, c := range Checks(cfg) {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// disabledBy says which setting disabled c, and where.
func (c Check) disabledBy() string {
	if c.At != "" {
		return fmt.Sprintf("%s is false (%s)", c.Setting(), c.At)
	}
	return c.Setting() + " is false"
}
