package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLoadTestDefaults(t *testing.T) {
	lt, err := ParseLoadTest(map[string]any{"environment": "staging"})
	if err != nil {
		t.Fatal(err)
	}
	want := &LoadTest{Environment: "staging", Paths: []string{"/"}, Rate: 20, Duration: 30 * time.Second, MaxInFlight: 100,
		Timeout: 10 * time.Second, Thresholds: LoadThresholds{ErrorRate: 0.01, DropRate: 0.01}}
	if !reflect.DeepEqual(lt, want) {
		t.Fatalf("got  %+v\nwant %+v", lt, want)
	}
	lt, _ = ParseLoadTest(map[string]any{"rate": 5000})
	if lt.MaxInFlight != 5000 {
		t.Fatalf("max_in_flight default at rate 5000 = %d, want one second of starts", lt.MaxInFlight)
	}
}

func TestParseLoadTestInputs(t *testing.T) {
	lt, err := ParseLoadTest(map[string]any{
		"url": "https://staging.example.com/", "paths": []any{"/", "/assets/app.js", "https://cdn.example.com/x.js"},
		"rate": "50/s", "duration": 90, "max_in_flight": 7, "timeout": "2s",
		"thresholds": map[string]any{"p99": "1s", "p(95)": 300, "p99.9": "2.5s", "max": "5s", "error_rate": "0.5%", "drop_rate": 0.02},
	})
	if err != nil {
		t.Fatal(err)
	}
	th := LoadThresholds{Percentiles: []PercentileLimit{{"p95", 95, 300 * time.Millisecond}, {"p99", 99, time.Second},
		{"p99.9", 99.9, 2500 * time.Millisecond}}, Max: 5 * time.Second, ErrorRate: 0.005, DropRate: 0.02}
	if lt.Rate != 50 || lt.Duration != 90*time.Second || lt.MaxInFlight != 7 || lt.Timeout != 2*time.Second ||
		len(lt.Paths) != 3 || !reflect.DeepEqual(lt.Thresholds, th) {
		t.Fatalf("got %+v", lt)
	}
}

// Every bad input is reported, each naming its field.
func TestParseLoadTestErrors(t *testing.T) {
	for _, c := range []struct {
		with map[string]any
		want []string
	}{
		{map[string]any{"rate": 0}, []string{`with.rate: must be 1..10000, got "0"`}},
		{map[string]any{"rate": 10001}, []string{`with.rate: must be 1..10000`}},
		{map[string]any{"rate": 2.5}, []string{`with.rate: must be 1..10000, got "2.5"`}},
		{map[string]any{"rate": []any{1}}, []string{`with.rate: must be a single value`}},
		{map[string]any{"duration": "0s"}, []string{`with.duration: must be a duration from 1s to 1h, got "0s"`}},
		{map[string]any{"duration": "2h"}, []string{`with.duration: must be a duration`}},
		{map[string]any{"duration": "soon"}, []string{`with.duration: must be a duration`}},
		{map[string]any{"max_in_flight": -1}, []string{`with.max_in_flight: must be 1..10000`}},
		{map[string]any{"timeout": "2m"}, []string{`with.timeout: must be a duration from 1ms to 1m,`}},
		{map[string]any{"url": "ftp://x"}, []string{`with.url: "ftp://x" is not a full http:// or https:// URL`}},
		{map[string]any{"url": "/relative"}, []string{`with.url: "/relative" is not a full`}},
		{map[string]any{"url": "https://u:hunter2@x.example/"}, []string{`with.url: must not hold credentials`}},
		{map[string]any{"environment": "staging", "url": "https://x.example/"}, []string{`with.url: give environment or url, not both`}},
		{map[string]any{"paths": []any{"assets/app.js", 3, "/ok", "/a b"}}, []string{`with.paths[0]: "assets/app.js" is not a path`,
			`with.paths[1]: must be a path`, `with.paths[3]: "/a b" is not a path`}},
		{map[string]any{"paths": []any{}}, []string{`with.paths: give 1 to 50 paths, got 0`}},
		{map[string]any{"paths": map[string]any{"a": 1}}, []string{`with.paths: must be a list of paths`}},
		{map[string]any{"thresholds": "p95<300"}, []string{`with.thresholds: must be a map`}},
		{map[string]any{"thresholds": map[string]any{"p95": "fast"}}, []string{`with.thresholds.p95: "fast" is not a latency limit`}},
		{map[string]any{"thresholds": map[string]any{"p100": "1s"}}, []string{`with.thresholds.p100: unknown threshold`}},
		{map[string]any{"thresholds": map[string]any{"p0": "1s"}}, []string{`with.thresholds.p0: a percentile must be above 0`}},
		{map[string]any{"thresholds": map[string]any{"p95": "1s", "p(95)": "2s"}}, []string{`with.thresholds.p95: given twice (as p95)`}},
		{map[string]any{"thresholds": map[string]any{"error_rte": "1%"}}, []string{`with.thresholds.error_rte: unknown threshold (did you mean error_rate?)`}},
		{map[string]any{"thresholds": map[string]any{"error_rate": 5}}, []string{`with.thresholds.error_rate: "5" is above 1: write a percentage with % (e.g. 5%)`}},
		{map[string]any{"thresholds": map[string]any{"error_rate": "120%"}}, []string{`with.thresholds.error_rate: "120%" must be from 0% to 100%`}},
		{map[string]any{"thresholds": map[string]any{"drop_rate": ""}}, []string{`with.thresholds.drop_rate: give a limit`}},
		{map[string]any{"max_inflight": 3}, []string{`with.max_inflight: unknown input (did you mean max_in_flight?)`}},
		{map[string]any{"rate": 0, "duration": "x"}, []string{`with.duration:`, `with.rate:`}},
	} {
		lt, err := ParseLoadTest(c.with)
		if err == nil || lt != nil {
			t.Errorf("%v: accepted: %+v", c.with, lt)
			continue
		}
		errs, ok := err.(InputErrors)
		if !ok || len(errs) != len(c.want) {
			t.Errorf("%v: %d errors %v, want %d", c.with, len(errs), err, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(errs[i].Error(), w) {
				t.Errorf("%v: error %d = %q, want prefix %q", c.with, i, errs[i], w)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows a URL's password: %v", err)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]float64{"1%": 0.01, "0.5%": 0.005, " 2 % ": 0.02, "0": 0, "0.01": 0.01, "1": 1, "100%": 1, "0%": 0} {
		if got, err := ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "x", "1.5", "-1%", "101%", "NaN", "Inf%", "0x1p-2", "1e400"} {
		if got, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) = %v, want an error", in, got)
		}
	}
}

// phoenix validate checks a load-test step's inputs with the file's
// positions, and leaves inputs written as ${{ ... }} to run time.
func TestValidateLoadTestStep(t *testing.T) {
	src := minimal + `environments: {staging: {}}
pipeline:
  stages:
    - name: verify
      steps:
        - name: warm
          run: "true"
        - name: load
          uses: load-test
          with: {environment: stagin, rate: 0, thresholds: {p95: quick}}
        - name: later
          uses: load-test
          timeout: 2m
          with: {environment: staging, rate: "${{ steps.verify/warm.outputs.rate }}", duration: 2m}
        - name: dynamic
          uses: load-test
          with: {url: "${{ steps.verify/warm.outputs.url }}", rate: 100, duration: 5s}
`
	got := problemsOf(t, src).Error()
	for _, want := range []string{
		`phoenix.yaml:11:18: pipeline.stages[0].steps[1].with.environment: unknown environment "stagin" (hint: did you mean staging?)`,
		`phoenix.yaml:11:39: pipeline.stages[0].steps[1].with.rate: must be 1..10000, got "0" (hint: a whole number)`,
		`pipeline.stages[0].steps[1].with.thresholds.p95: "quick" is not a latency limit`,
		`pipeline.stages[0].steps[2].with.duration: 2m of load plus the 10s request timeout do not fit in the step's timeout of 2m (hint`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack\n  %s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "steps[3]") || strings.Count(got, "\n") != 3 {
		t.Errorf("want exactly the 4 problems above, got:\n%s", got)
	}
}

// FuzzParseLoadTest: any inputs give either a checked LoadTest within
// its bounds or errors naming inputs; never a panic.
func FuzzParseLoadTest(f *testing.F) {
	f.Add("50", "30s", "100", "300ms", "1%", "p95", "/", "")
	f.Add("0", "", "", "1", "0.5", "p(99.9)", "https://x.example/a", "staging")
	f.Add("1e3", "P1D", "-1", "NaN", "Inf%", "max", "a b", "https://u:p@x/")
	f.Fuzz(func(t *testing.T, rate, dur, inflight, lat, rate2, key, path, url string) {
		with := map[string]any{"rate": rate, "duration": dur, "max_in_flight": inflight, "paths": []any{path},
			"thresholds": map[string]any{key: lat, "error_rate": rate2}}
		if url != "" {
			with["url"] = url
		}
		lt, err := ParseLoadTest(with)
		if err != nil {
			errs, ok := err.(InputErrors)
			if !ok || len(errs) == 0 || lt != nil {
				t.Fatalf("error %T %v with result %v", err, err, lt)
			}
			for _, e := range errs {
				if e.Field == "" || e.Msg == "" || !strings.HasPrefix(e.Error(), "with.") {
					t.Fatalf("error without field or message: %#v", e)
				}
			}
			return
		}
		th := lt.Thresholds
		if lt.Rate < 1 || lt.Rate > LoadMaxRate || lt.Duration < time.Second || lt.Duration > time.Hour ||
			lt.MaxInFlight < 1 || lt.MaxInFlight > LoadMaxInFlight || len(lt.Paths) != 1 ||
			th.ErrorRate < 0 || th.ErrorRate > 1 || th.DropRate != 0.01 || th.Max < 0 {
			t.Fatalf("out of bounds: %+v", lt)
		}
		for _, p := range th.Percentiles {
			if p.P <= 0 || p.P >= 100 || p.Limit <= 0 || p.Limit > time.Hour {
				t.Fatalf("bad percentile limit %+v", p)
			}
		}
	})
}

// An environment's load_test is checked like a load-test step's inputs,
// aimed at the environment itself: environment and url are refused there.
func TestValidateEnvLoadTest(t *testing.T) {
	src := minimal + `environments:
  staging:
    load_test: {paths: [/], rate: 0, duration: 10s}
  production:
    load_test: {url: "https://example.com/", environment: staging, thresholds: {p95: 300ms}}
  qa:
    load_test: {paths: [/, /assets/app.js], rate: 20, duration: 5s, thresholds: {p95: 300ms, error_rate: 1%}}
`
	got := problemsOf(t, src).Error()
	for _, want := range []string{
		`environments.staging.load_test.rate: must be 1..10000, got "0"`,
		`environments.production.load_test.url: url is not allowed here`,
		`environments.production.load_test.environment: environment is not allowed here`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack\n  %s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "environments.qa") {
		t.Errorf("a valid load_test was refused:\n%s", got)
	}
}
