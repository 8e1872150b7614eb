package config

import (
	"strings"
	"testing"
)

func TestProbeURLsAndCronForms(t *testing.T) {
	base := "version: 1\nproject:\n  name: shop\n"
	cases := []struct {
		name, yaml, wantErr string
	}{
		{"tcp probe", "monitor:\n  endpoints:\n    - name: db\n      url: tcp://127.0.0.1:5432\n", ""},
		{"dns probe", "monitor:\n  endpoints:\n    - name: dns\n      url: dns://127.0.0.1:53/www.example.com?type=A\n", ""},
		{"tcp without port", "monitor:\n  endpoints:\n    - name: db\n      url: tcp://db.internal\n", "monitor.endpoints[0].url"},
		{"dns without name", "monitor:\n  endpoints:\n    - name: dns\n      url: dns://127.0.0.1:53/\n", "monitor.endpoints[0].url"},
		{"ftp probe", "monitor:\n  endpoints:\n    - name: f\n      url: ftp://example.com/x\n", "not a valid probe URL"},
		{"cron with seconds", "workflows:\n  tick:\n    triggers:\n      - cron: \"30 */2 * * * *\"\n    steps:\n      - name: hi\n        run: echo hi\n", ""},
		{"cron with seven fields", "workflows:\n  tick:\n    triggers:\n      - cron: \"1 2 3 4 5 6 7\"\n    steps:\n      - name: hi\n        run: echo hi\n", "workflows.tick.triggers[0].cron"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(base+c.yaml), "phoenix.yaml")
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
			}
		})
	}
}
