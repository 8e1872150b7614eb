package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"60": time.Minute, "0": 0, "60s": time.Minute, "1m": time.Minute, "1m30s": 90 * time.Second,
		"1.5h": 90 * time.Minute, "300ms": 300 * time.Millisecond, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"PT5M": 5 * time.Minute, "PT1H30M": 90 * time.Minute, "P1D": 24 * time.Hour, "P1DT12H": 36 * time.Hour,
		"PT0.5S": 500 * time.Millisecond, "P2W": 14 * 24 * time.Hour, "PT30S": 30 * time.Second,
	}
	for in, want := range good {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDuration(in)
			if err != nil || got != want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
			}
		})
	}
	for _, in := range []string{"", "5 min", "-1s", "P", "PT", "P1M", "P1Y", "1y", "m", "1.s", "PT5M5H", "99999999999999999h"} {
		t.Run("bad "+in, func(t *testing.T) {
			if got, err := ParseDuration(in); err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
			}
		})
	}
}

func TestDurationFieldForms(t *testing.T) {
	tests := []struct {
		src  string
		want time.Duration
	}{
		{"60", time.Minute}, {`"60"`, time.Minute}, {`"60s"`, time.Minute}, {"1m", time.Minute},
		{"PT5M", 5 * time.Minute}, {"1_000", 1000 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			src := minimal + "monitor: {alerts: [{name: A, metric: error_rate, threshold: 1, window: " + tt.src + "}]}\n"
			c, err := Parse([]byte(src), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Monitor.Alerts[0].Window.D(); got != tt.want {
				t.Errorf("window = %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"true", "1.5", "[1]", "-5"} {
		t.Run("bad "+bad, func(t *testing.T) {
			src := minimal + "monitor: {alerts: [{name: A, metric: error_rate, threshold: 1, window: " + bad + "}]}\n"
			ps := problemsOf(t, src)
			if !strings.Contains(ps.Error(), "monitor.alerts[0].window") {
				t.Errorf("problem does not name the field: %v", ps)
			}
		})
	}
}

func TestThreshold(t *testing.T) {
	tests := []struct {
		src       string
		value     float64
		unit, str string
	}{
		{"5", 5, "", "5"}, {"99.9", 99.9, "", "99.9"}, {`"99.9"`, 99.9, "", "99.9"}, {"1%", 1, "%", "1%"},
		{`"80%"`, 80, "%", "80%"}, {"1000ms", 1000, "ms", "1000ms"}, {"2s", 2000, "ms", "2000ms"}, {"1.5s", 1500, "ms", "1500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			metric := "error_rate"
			if tt.unit == "ms" {
				metric = "response_time"
			}
			src := minimal + "monitor: {alerts: [{name: A, metric: " + metric + ", threshold: " + tt.src + "}]}\n"
			c, err := Parse([]byte(src), "")
			if err != nil {
				t.Fatal(err)
			}
			th := c.Monitor.Alerts[0].Threshold
			if th.Value != tt.value || th.Unit != tt.unit || th.String() != tt.str {
				t.Errorf("got %+v (%s), want %v %q %s", th, th, tt.value, tt.unit, tt.str)
			}
		})
	}
	for _, bad := range []string{"1 %", "fast", "true", "-1", "120%"} {
		t.Run("bad "+bad, func(t *testing.T) {
			problemsOf(t, minimal+"monitor: {alerts: [{name: A, metric: error_rate, threshold: \""+bad+"\"}]}\n")
		})
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		src  string
		want Condition
	}{
		{`"[STATUS] == 200"`, Condition{Type: "status", Operator: "==", Value: "200", Raw: "[STATUS] == 200"}},
		{`"[RESPONSE_TIME] < 500"`, Condition{Type: "response_time", Operator: "<", Value: "500", Raw: "[RESPONSE_TIME] < 500"}},
		{`"[BODY].status == UP"`, Condition{Type: "body", Path: "status", Operator: "==", Value: "UP", Raw: "[BODY].status == UP"}},
		{`"len([BODY].items) > 0"`, Condition{Type: "body", Path: "items", Func: "len", Operator: ">", Value: "0", Raw: "len([BODY].items) > 0"}},
		{`"[STATUS] == any(200, 204)"`, Condition{Type: "status", Operator: "==", Value: "any(200, 204)", Raw: "[STATUS] == any(200, 204)"}},
		{"{type: status, value: 200}", Condition{Type: "status", Operator: "==", Value: "200"}},
		{"{type: response_time, value: 1s}", Condition{Type: "response_time", Operator: "<", Value: "1s"}},
		{"{type: header, path: Content-Type, value: text/html}", Condition{Type: "header", Path: "Content-Type", Operator: "==", Value: "text/html"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			src := minimal + "monitor: {endpoints: [{name: a, url: \"https://x.example/\", conditions: [" + tt.src + "]}]}\n"
			c, err := Parse([]byte(src), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Monitor.Endpoints[0].Conditions[0]; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`"[STATUS] = 200"`, `"[CONNECTED] > true"`, "{type: status}", "{type: stat, value: 200}",
		"{type: status, value: 200, extra: 1}", "{type: header, value: x}", "[200]"} {
		t.Run("bad "+bad, func(t *testing.T) {
			problemsOf(t, minimal+"monitor: {endpoints: [{name: a, url: \"https://x.example/\", conditions: ["+bad+"]}]}\n")
		})
	}
}

func TestSecretRef(t *testing.T) {
	for in, want := range map[string]SecretRef{
		"secret:PROD_TEAMS_WEBHOOK_URL": {Source: "secret", Name: "PROD_TEAMS_WEBHOOK_URL"},
		"env:HOOK":                      {Source: "env", Name: "HOOK"},
	} {
		got, err := ParseSecretRef(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseSecretRef(%q) = %+v, %v", in, got, err)
		}
	}
	lit, _ := ParseSecretRef("https://hooks.slack.com/services/T000/B000/XXXX")
	for _, s := range []string{lit.String(), lit.GoString()} {
		if strings.Contains(s, "hooks.slack") {
			t.Errorf("literal leaks: %s", s)
		}
	}
	t.Setenv("PHOENIX_TEST_HOOK", "https://example.com/x")
	env, _ := ParseSecretRef("env:PHOENIX_TEST_HOOK")
	if v, err := env.Resolve(nil); err != nil || v != "https://example.com/x" {
		t.Errorf("Resolve env = %q, %v", v, err)
	}
	sec, _ := ParseSecretRef("secret:X")
	if v, err := sec.Resolve(func(n string) (string, error) { return "value-of-" + n, nil }); err != nil || v != "value-of-X" {
		t.Errorf("Resolve secret = %q, %v", v, err)
	}
	if _, err := sec.Resolve(nil); err == nil {
		t.Error("Resolve without a vault should fail")
	}
}

func TestAllAlerts(t *testing.T) {
	src := minimal + `monitor:
  alerts: [{name: HighErrorRate, metric: requests/failed, threshold: 5, window: PT5M, severity: 0}]
  alert_config:
    critical: [{type: availability, threshold: 99.9, window: 5m}]
    warning: [{type: cpu_usage, threshold: 80%, window: 15m, name: CPU}]
`
	c, err := Parse([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	all := c.Monitor.AllAlerts()
	if len(all) != 3 {
		t.Fatalf("got %d alerts", len(all))
	}
	if a := all[1]; a.Name != "critical-availability" || a.Severity != 0 || a.Op() != "<" {
		t.Errorf("critical rule = %+v op %s", a, a.Op())
	}
	if a := all[2]; a.Name != "CPU" || a.Severity != 2 || a.Window.D() != 15*time.Minute || a.Op() != ">" {
		t.Errorf("warning rule = %+v", a)
	}
}

func TestSuggest(t *testing.T) {
	for _, tt := range []struct{ word, want string }{
		{"enviroments", "environments"}, {"monitr", "monitor"}, {"zzzzzz", ""}, {"Build", "build"},
	} {
		if got := suggest(tt.word, fieldNames(fieldsOf(typeOfConfig()))); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestBackupRPOWarning(t *testing.T) {
	c, err := Parse([]byte(minimal+"backup: {frequency: daily, rpo: 15m}\n"), "")
	if err != nil || !strings.Contains(c.Warnings.Error(), "backups every 24h cannot meet an RPO of 15m") {
		t.Fatalf("want an RPO warning, got %v / %v", err, c)
	}
	c, err = Parse([]byte(minimal+"backup: {frequency: \"*/15 * * * *\", rpo: 15m}\n"), "")
	if err != nil || len(c.Warnings) != 0 {
		t.Fatalf("15-minute backups meet a 15m RPO: %v %v", err, c.Warnings)
	}
}

// vault.backend: azure-keyvault loaded silently, though releases read
// their secrets from the Phoenix vault whatever it says.
func TestVaultBackendAzureKeyVaultWarns(t *testing.T) {
	c, err := Parse([]byte(minimal+"vault: {backend: azure-keyvault, url: \"https://shop.vault.azure.net\"}\n"), "")
	if err != nil || !strings.Contains(c.Warnings.Error(), "vault.backend: azure-keyvault is not wired yet") {
		t.Fatalf("want a warning at vault.backend, got %v / %v", err, c.Warnings)
	}
}

// TestFormatDuration: durations in texts people read drop Go's zero
// minutes and seconds, and nothing else.
func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		90 * time.Second: "1m30s", 24 * time.Hour: "24h", 0: "0s", 1500 * time.Millisecond: "1.5s", time.Hour + time.Second: "1h0m1s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
