package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSilencesSayWhoAndWhatTheyCover: 'phoenix alerts silences' names who
// made each silence, and shows one over every rule and environment as
// such, not as dashes that read as "none".
func TestSilencesSayWhoAndWhatTheyCover(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if out := mustRun(t, "", "alerts", "silences", "--data", data); out != "no silence or maintenance window in force\n" {
		t.Errorf("no silences: %q (a header over no rows?)", out)
	}
	mustRun(t, "", "alerts", "silence", "--maintenance", "--for", "30m", "--comment", "kernel upgrade", "--data", data)
	out := mustRun(t, "", "alerts", "silences", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "BY") {
		t.Fatalf("silences:\n%s", out)
	}
	f := strings.Fields(lines[1])
	if f[1] != "maintenance" || !strings.Contains(lines[1], "every rule") || !strings.Contains(lines[1], "everywhere") ||
		!strings.Contains(lines[1], " admin ") || !strings.HasSuffix(lines[1], "kernel upgrade") {
		t.Fatalf("the silence's row does not say what it covers and who made it:\n%s", out)
	}
}

// TestExpireSilenceJSON: 'phoenix alerts expire -o json' says which
// silence ended in JSON, as every command that changes something does.
func TestExpireSilenceJSON(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, "", "alerts", "silence", "--for", "30m", "--comment", "cdn move", "--data", data)
	out := mustRun(t, "", "alerts", "expire", "1", "-o", "json", "--data", data)
	var got struct {
		ID    int64 `json:"id"`
		Ended bool  `json:"ended"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.ID != 1 || !got.Ended {
		t.Fatalf("expire -o json: %v\n%s", err, out)
	}
}

// TestNoAlertsSaysWhichOnes: with no alert, 'phoenix alerts' says there is
// no open one and 'phoenix alerts --all' that there is none at all.
func TestNoAlertsSaysWhichOnes(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if out := mustRun(t, "", "alerts", "--data", data); out != "no open alerts\n" {
		t.Errorf("alerts: %q", out)
	}
	if out := mustRun(t, "", "alerts", "--all", "--data", data); out != "no alerts, open or resolved\n" {
		t.Errorf("alerts --all: %q", out)
	}
}

// TestSilenceForDays: '--for' takes whole days, as docs/monitoring.md
// silences the certificate alert ('phoenix alerts silence
// certificate-expiry --for 1d') and as the API and the other time-span
// flags do; it was refused as not a duration.
func TestSilenceForDays(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	out := mustRun(t, "", "alerts", "silence", "certificate-expiry", "--for", "1d", "--comment", "renewing", "-o", "json", "--data", data)
	var s struct {
		Rule   string    `json:"rule"`
		Starts time.Time `json:"starts"`
		Ends   time.Time `json:"ends"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("silence -o json: %v\n%s", err, out)
	}
	if s.Rule != "certificate-expiry" || s.Ends.Sub(s.Starts) != 24*time.Hour {
		t.Fatalf("--for 1d: a silence of %s from %s to %s, want 24h", s.Rule, s.Starts, s.Ends)
	}
}

// TestSilenceProjectNeedsEnv: --project without --env is a usage error
// naming both flags, as --env without --project is; it reached the API,
// which answered in its own words ("give both project and environment,
// or neither") with no flag to add and no hint.
func TestSilenceProjectNeedsEnv(t *testing.T) {
	t.Setenv("PHOENIX_DATA", t.TempDir())
	_, errs, code := run("alerts", "silence", "Down", "--project", "shop", "--for", "10m", "--comment", "x")
	if code != 2 || !strings.Contains(errs, "error: --project needs --env") ||
		!strings.Contains(errs, "hint: e.g. --project shop --env production") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

// TestSilenceTakesAnAlertID: an on-call who copied the ID column of
// 'phoenix alerts' (Down@production.shop) into 'phoenix alerts silence'
// got "silence 1 until …", a silence of a rule named "Down@production.shop"
// everywhere, which no rule is: it held nothing back while the alert went
// on paging. An alert's ID silences its rule in its environment; a
// server's alert (host, tls:…) its rule everywhere, as the docs do.
func TestSilenceTakesAnAlertID(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{
		"phoenix.yaml":    "project: {name: shop}\nenvironments:\n  production: {}\n",
		"dist/index.html": "<title>shop</title>",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "", "deploy", filepath.Join(dir, "dist"), "--env", "production", "--data", data, "-c", filepath.Join(dir, "phoenix.yaml"))
	type silence struct{ Rule, Environment string }
	for id, want := range map[string]silence{
		"Down@production.shop":                   {"Down", "production.shop"},
		"Slow@shop/production":                   {"Slow", "production.shop"},
		"certificate-expiry@tls:www.example.com": {"certificate-expiry", ""},
		"HighCPU@host":                           {"HighCPU", ""},
	} {
		out := mustRun(t, "", "alerts", "silence", id, "--for", "10m", "--comment", "on it", "-o", "json", "--data", data)
		var got silence
		if err := json.Unmarshal([]byte(out), &got); err != nil || got != want {
			t.Errorf("silence %s: %+v (%v), want %+v\n%s", id, got, err, want, out)
		}
	}
	t.Setenv("PHOENIX_DATA", data)
	if _, errs, code := run("alerts", "silence", "Down@production.shop", "--project", "shop", "--env", "staging", "--for", "10m", "--comment", "x"); code != 2 ||
		!strings.Contains(errs, "Down@production.shop is the alert of shop/production, not of --project shop --env staging") {
		t.Errorf("an alert id beside another environment's flags: exit %d\n%s", code, errs)
	}
}

// TestSilenceEndsToTheSecond: 'phoenix alerts silence' and 'phoenix alerts
// silences' show a silence's end to the second when it is not on a minute
// (a 90 s silence ending at 17:16:30 showed "17:16"), to the minute when
// it is.
func TestSilenceEndsToTheSecond(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 17, 16, 30, 400_000_000, time.Local)
	if got := silenceTime(at); got != "2026-11-27 17:16:30" {
		t.Errorf("17:16:30.4 shows as %q", got)
	}
	if got := silenceTime(at.Truncate(time.Minute)); got != "2026-11-27 17:16" {
		t.Errorf("17:16:00 shows as %q", got)
	}
	data := t.TempDir()
	said := mustRun(t, "", "alerts", "silence", "--for", "90s", "--comment", "quick restart", "--data", data)
	var ss []struct {
		Ends time.Time `json:"ends"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "alerts", "silences", "-o", "json", "--data", data)), &ss); err != nil || len(ss) != 1 {
		t.Fatalf("silences -o json: %v %v", ss, err)
	}
	want := ss[0].Ends.Local().Format("2006-01-02 15:04:05")
	if ss[0].Ends.Local().Second() == 0 {
		want = ss[0].Ends.Local().Format("2006-01-02 15:04")
	}
	if !strings.Contains(said, "until "+want+"\n") {
		t.Errorf("silence said %q, it ends at %s", said, ss[0].Ends)
	}
	if list := mustRun(t, "", "alerts", "silences", "--data", data); !strings.Contains(list, want) {
		t.Errorf("silences does not show the end %s:\n%s", want, list)
	}
}
