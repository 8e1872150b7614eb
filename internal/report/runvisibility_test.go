package report

import "testing"

// TestReleaseRunsFollowWhoMaySeeThem: a release run that acts on staging
// and production counts, and gives the security section its gates, only
// for a caller who may read both. A reader of production alone still gets
// the release live there, without the run's id or gates and with a note
// saying why; a reader of staging alone gets neither.
func TestReleaseRunsFollowWhoMaySeeThem(t *testing.T) {
	f, _, run := releasedSite(t, "project: {name: site}\nenvironments: {staging: {}, production: {}}\n"+
		"pipeline:\n  stages:\n    - name: stage\n      environment: staging\n      steps: [{name: deploy, run: \"true\"}]\n"+
		"    - name: prod\n      environment: production\n      steps: [{name: deploy, run: \"true\"}]\n")
	f.deploy("site", "production", "v1.0.0")
	only := func(envs ...string) func(string, string) bool {
		return func(_, env string) bool {
			for _, e := range envs {
				if env == e || env == "" {
					return true
				}
			}
			return false
		}
	}
	for _, tt := range []struct {
		name     string
		canRead  func(string, string) bool
		releases int
		run      int64  // the security pick's run
		picks    int    // security picks
		note     string // the pick's note
	}{
		{"everything", nil, 1, run.ID, 1, ""},
		{"staging and production", only("staging", "production"), 1, run.ID, 1, ""},
		{"production alone", only("production"), 0, 0, 1, "its release run also acts on environments you may not read: no gate results"},
		{"staging alone", only("staging"), 0, 0, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := build(t, f, Options{Sections: []string{SecDelivery, SecSecurity}, CanRead: tt.canRead})
			if r.Delivery.Releases != tt.releases {
				t.Errorf("releases = %d, want %d", r.Delivery.Releases, tt.releases)
			}
			if len(r.Security.Releases) != tt.picks {
				t.Fatalf("security picks %+v, want %d", r.Security.Releases, tt.picks)
			}
			if tt.picks > 0 {
				p := r.Security.Releases[0]
				if p.Run != tt.run || (tt.note != "" && p.Note != tt.note) {
					t.Errorf("pick: run %d note %q, want run %d note %q", p.Run, p.Note, tt.run, tt.note)
				}
			}
		})
	}
}
