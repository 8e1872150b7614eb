package activation

import (
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []Passed
		err  string
	}{
		{name: "not activated", env: map[string]string{}},
		{name: "meant for another process", env: map[string]string{"LISTEN_PID": "99", "LISTEN_FDS": "2"}},
		{name: "named", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "edge:api"},
			want: []Passed{{3, "edge"}, {4, "api"}}},
		{name: "unnamed", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "1"}, want: []Passed{{3, "unknown"}}},
		{name: "none", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "0"}, want: []Passed{}},
		{name: "bad pid", env: map[string]string{"LISTEN_PID": "x1", "LISTEN_FDS": "1"}, err: `LISTEN_PID="x1" is not a process id`},
		{name: "bad count", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "-1"}, err: `LISTEN_FDS="-1" is not a count`},
		{name: "no count", env: map[string]string{"LISTEN_PID": "42"}, err: `LISTEN_FDS="" is not a count`},
		{name: "names short", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "edge"},
			err: `LISTEN_FDNAMES="edge" names 1 descriptors, LISTEN_FDS=2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(env(tc.env), 42)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// FuzzParse: any environment parses without a panic, and what it returns
// is LISTEN_FDS descriptors numbered from 3, each with a name.
func FuzzParse(f *testing.F) {
	f.Add("42", "2", "edge:api")
	f.Add("42", "1", "")
	f.Add("7", "3", "a:b:c")
	f.Add("42", "99999999999999999999", "")
	f.Fuzz(func(t *testing.T, pid, fds, names string) {
		got, err := Parse(env(map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": fds, "LISTEN_FDNAMES": names}), 42)
		if err != nil {
			return
		}
		for i, p := range got {
			if p.FD != firstFD+i || p.Name == "" && names == "" {
				t.Fatalf("descriptor %d: %+v", i, p)
			}
		}
	})
}
