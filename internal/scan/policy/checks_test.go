package policy

import (
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestChecks: every check runs unless checks.NAME.enabled is false, and a
// disabled one says which setting turned it off and where it is.
func TestChecks(t *testing.T) {
	tests := []struct {
		name, yaml string
		disabled   map[string]string // check -> Disabled
		at         map[string]string // check -> At, where the file sets it
	}{
		{"defaults", "", nil, nil},
		{"audit off, flow style", "checks:\n  audit: {enabled: false}\n",
			map[string]string{"audit": "checks.audit.enabled is false (dir/phoenix.yaml:3:11)"},
			map[string]string{"audit": "dir/phoenix.yaml:3:11"}},
		{"licenses and sbom off", "checks:\n  licenses:\n    enabled: false\n  sbom:\n    enabled: false\n",
			map[string]string{"licenses": "checks.licenses.enabled is false (dir/phoenix.yaml:4:5)",
				"sbom": "checks.sbom.enabled is false (dir/phoenix.yaml:6:5)"},
			map[string]string{"licenses": "dir/phoenix.yaml:4:5", "sbom": "dir/phoenix.yaml:6:5"}},
		{"secrets set on explicitly", "checks:\n  secrets: {enabled: true}\n", nil,
			map[string]string{"secrets": "dir/phoenix.yaml:3:13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("project: {name: site}\n"+tt.yaml), "dir/phoenix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range Checks(cfg) {
				names = append(names, c.Name)
				if want := tt.disabled[c.Name]; c.Disabled != want || c.Enabled != (want == "") {
					t.Errorf("%s: enabled %v, disabled %q; want %q", c.Name, c.Enabled, c.Disabled, want)
				}
				if c.At != tt.at[c.Name] || c.Setting() != "checks."+c.Name+".enabled" {
					t.Errorf("%s: %s at %q, want %q", c.Name, c.Setting(), c.At, tt.at[c.Name])
				}
			}
			if !slices.Equal(names, []string{"audit", "licenses", "secrets", "sbom"}) {
				t.Errorf("checks in order %v", names)
			}
		})
	}
}

// TestChecksWithoutFile: with no config every check runs; one turned off
// in code has no position to give.
func TestChecksWithoutFile(t *testing.T) {
	for _, c := range Checks(nil) {
		if !c.Enabled || c.Disabled != "" {
			t.Errorf("no config: %+v", c)
		}
	}
	cfg := config.Default()
	cfg.Checks.Secrets.Enabled = false
	if c, ok := Lookup(cfg, "secrets"); !ok || c.Enabled || c.Disabled != "checks.secrets.enabled is false" {
		t.Errorf("secrets off in code: %+v, %v", c, ok)
	}
	if _, ok := Lookup(cfg, "lint"); ok {
		t.Error("lint is no check")
	}
}
