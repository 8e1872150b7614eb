package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// seed builds a month of history through the domain services.
func seed(t *testing.T) (*fixture, map[string]string) {
	f := newFixture(t, t0.Add(-72*time.Hour))
	f.deploy("site", "staging", "v0.1.0") // before the window
	f.at(t0).deploy("site", "staging", "v1.0.0")
	f.at(t0.Add(time.Hour)).deploy("site", "production", "v1.0.0")
	f.at(t0.Add(2*time.Hour)).deploy("site", "production", "v2.0.0")
	f.at(t0.Add(3 * time.Hour))
	if _, err := f.dep.Rollback(bg, "site", "production", 0, "phoenix-verify"); err != nil {
		t.Fatal(err)
	}
	f.at(t0.Add(4*time.Hour)).deploy("site", "production", "v3.0.0")

	// Probes and edge traffic of production.site, host samples.
	f.at(t0.Add(10*time.Minute)).point("probe/production.site/home", 1, 1, 100, 100, 100)
	f.at(t0.Add(11*time.Minute)).point("probe/production.site/home", 1, 0, 300, 300, 300)
	f.at(t0.Add(20*time.Minute)).point("edge/production.site", 100, 98, 5000, 1, 250)
	f.at(t0.Add(80*time.Minute)).point("edge/production.site", 10, 10, 1000, 50, 100)
	f.at(t0.Add(20*time.Minute)).point("host/cpu", 1, 1, 40, 40, 40)
	f.at(t0.Add(80*time.Minute)).point("host/cpu", 1, 1, 60, 60, 60)

	// An error burst fires two alerts; alice acknowledges one a minute in.
	f.mon.SetRules([]monitor.Rule{
		{Name: "HighErrorRate", Metric: "requests/failed", Threshold: 0, Severity: 0, Environment: "production.site"},
		{Name: "SLO", Metric: "availability", Threshold: 99.9, Severity: 1, Environment: "production.site"},
	})
	tA := t0.Add(6 * time.Hour)
	f.at(tA).point("edge/production.site", 10, 5, 100, 1, 20)
	f.eval()
	f.at(tA.Add(5 * time.Second)).eval()
	f.at(tA.Add(65 * time.Second))
	if _, err := f.mon.Acknowledge(bg, "HighErrorRate@production.site", "alice", "on it"); err != nil {
		t.Fatal(err)
	}
	f.at(tA.Add(10 * time.Minute)).eval()
	f.at(tA.Add(10*time.Minute + 5*time.Second)).eval()

	// Users: alice (admin) signs in; bob (viewer) never does; carol's
	// last sign-in is 100 days old.
	secrets := map[string]string{}
	f.at(t0.Add(-100 * 24 * time.Hour))
	for _, u := range []struct {
		name string
		g    auth.Grant
	}{{"alice", auth.Grant{Role: auth.RoleAdmin}}, {"bob", auth.Grant{Role: "viewer", Project: "site"}}, {"carol", auth.Grant{Role: "contributor"}}} {
		if _, err := f.auth.CreateUser(bg, u.name, "correct horse "+u.name, []auth.Grant{u.g}); err != nil {
			t.Fatal(err)
		}
	}
	login := func(name, pw string) {
		f.auth.Login(bg, nil, auth.Credentials{Username: name, Password: pw}, "192.0.2.1")
	}
	login("carol", "correct horse carol")
	f.at(t0.Add(7 * time.Hour))
	login("alice", "correct horse alice")
	login("alice", "wrong")
	for _, who := range []string{"alice", "bob"} {
		pr, err := f.auth.UserPrincipal(bg, who)
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := f.auth.CreateToken(bg, pr, auth.TokenRequest{Name: who + "-ci", TTL: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		secrets[tok.ID] = secret
		if who == "alice" {
			if _, err := f.auth.Authenticate(bg, secret); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.at(t0.Add(-48 * time.Hour))
	backup := func(outcome, detail string) {
		if _, err := f.log.Append(bg, audit.Event{Action: "backup.create", Actor: "phoenix:schedule", Outcome: outcome, Detail: detail}); err != nil {
			t.Fatal(err)
		}
	}
	backup("", "120 files, 4096 bytes (10 new), restore test passed, 0 forgotten")
	f.at(t0.Add(9 * time.Hour))
	backup(audit.Failed, "disk full")
	f.at(t0.Add(8 * time.Hour))
	f.release("v3.0.0")
	f.at(t0.Add(24 * time.Hour))
	return f, secrets
}

func build(t *testing.T, f *fixture, o Options) *Report {
	t.Helper()
	if o.From.IsZero() {
		o.From, o.To = t0.Add(-24*time.Hour), t0.Add(24*time.Hour)
	}
	r, err := Build(bg, f.sources(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportFiguresFromStoredData(t *testing.T) {
	f, secrets := seed(t)
	r := build(t, f, Options{AccessReview: true, AuditRead: true})
	t.Run("performance", func(t *testing.T) {
		if len(r.Performance.Environments) != 1 {
			t.Fatalf("environments %+v", r.Performance.Environments)
		}
		e := r.Performance.Environments[0]
		if e.Project != "site" || e.Environment != "production" || e.Basis != "probes" || *e.AvailabilityPct != 50 ||
			*e.TargetPct != 99.9 || *e.MetTarget {
			t.Errorf("environment %+v", e)
		}
		q := e.Requests
		if q.Count != 120 || q.Good != 113 || q.AvailabilityPct != 94.167 || q.ErrorRatePct != 5.833 || q.MeanMS != 50.8 || q.MaxMS != 250 {
			t.Errorf("requests %+v", q)
		}
		if q.WorstHour == nil || !q.WorstHour.Start.Equal(t0.Add(time.Hour)) || q.WorstHour.MeanMS != 100 {
			t.Errorf("worst hour %+v", q.WorstHour)
		}
		if q.WorstAvailabilityHour == nil || !q.WorstAvailabilityHour.Start.Equal(t0.Add(6*time.Hour)) || q.WorstAvailabilityHour.AvailabilityPct != 50 {
			t.Errorf("worst availability hour %+v", q.WorstAvailabilityHour)
		}
		if p := e.Probes; p.Count != 2 || p.MeanMS != 200 || p.MaxMS != 300 {
			t.Errorf("probes %+v", p)
		}
		if c := r.Performance.Host.CPU; c == nil || c.Samples != 2 || c.MeanPct != 50 || c.MaxPct != 60 || c.WorstHourMeanPct != 60 {
			t.Errorf("cpu %+v", c)
		}
	})
	t.Run("delivery", func(t *testing.T) {
		d := r.Delivery
		if d.Deployments != 4 || d.Failed != 1 || d.Rollbacks != 1 || *d.ChangeFailurePct != 25 || d.PerDay != 2 {
			t.Errorf("delivery %+v", d)
		}
		var prod EnvDelivery
		for _, e := range d.Environments {
			if e.Environment == "production" {
				prod = e
			}
		}
		if prod.Deployments != 3 || prod.Failed != 1 || *prod.ChangeFailurePct != 33.33 || strings.Join(prod.Releases, ",") != "v1.0.0,v2.0.0,v3.0.0" {
			t.Errorf("production %+v", prod)
		}
		if d.Releases != 1 || d.ReleaseStatus["succeeded"] != 1 || d.MedianReleaseSeconds == nil {
			t.Errorf("releases %+v", d)
		}
		if *d.MedianRestoreSeconds != 600 || *d.MeanRestoreSeconds != 600 {
			t.Errorf("restore %v %v", *d.MedianRestoreSeconds, *d.MeanRestoreSeconds)
		}
	})
	t.Run("incidents", func(t *testing.T) {
		in := r.Incidents
		if in.Fired != 2 || in.Resolved != 2 || in.Open != 0 || *in.MeanAckSeconds != 60 {
			t.Fatalf("incidents %+v", in)
		}
		a := in.Alerts[0]
		if a.Rule != "HighErrorRate" {
			a = in.Alerts[1]
		}
		if a.AckBy != "alice" || *a.AckSeconds != 60 || a.DurationSeconds != 600 || !a.Fired.Equal(t0.Add(6*time.Hour+5*time.Second)) ||
			a.Severity != 0 || a.Project != "site" || a.Environment != "production" {
			t.Errorf("alert %+v", a)
		}
	})
	t.Run("security", func(t *testing.T) {
		if len(r.Security.Releases) != 1 {
			t.Fatalf("releases %+v", r.Security.Releases)
		}
		s := r.Security.Releases[0]
		if s.Version != "v3.0.0" || strings.Join(s.Why, ";") != whyNewest+";"+whyLive || s.Run == 0 {
			t.Errorf("release %+v", s)
		}
		if v := s.Vulnerabilities; v == nil || v.Counts["critical"] != 1 || v.Counts["high"] != 1 || v.Scanned != 3 || v.Status != "succeeded" {
			t.Errorf("vulnerabilities %+v", v)
		}
		if l := s.Licenses; l == nil || len(l.Verdict) != 1 || l.Verdict["review"] != 1 || len(l.Counts) != 0 || l.Scanned != 3 { // a licence has a verdict, no severity
			t.Errorf("licences %+v", l)
		}
		if x := s.Secrets; x == nil || !x.Recorded || len(x.Counts) != 0 || x.Scanned != 3 {
			t.Errorf("secrets %+v", x)
		}
		if len(s.Exceptions) != 2 || *s.Exceptions[0].DaysLeft != 41 || s.Exceptions[0].Gate != "main/audit" ||
			!strings.HasPrefix(s.Exceptions[0].Text, "GHSA-aaaa-bbbb-cccc a@1.0.0 (critical, prod)") || s.Exceptions[1].Gate != "main/licenses" ||
			!strings.Contains(s.Exceptions[1].Text, "licence GPL-3.0-only of b@1.0.0") || !s.SBOM || s.SBOMStatus != "succeeded" {
			t.Errorf("exceptions %+v, sbom %v", s.Exceptions, s.SBOM)
		}
	})
	t.Run("access", func(t *testing.T) {
		a := r.Access
		if strings.Join(a.Admins, ",") != "alice" || strings.Join(a.Inactive, ",") != "bob,carol" {
			t.Errorf("admins %v inactive %v", a.Admins, a.Inactive)
		}
		// bob and carol were made hours ago: the line must not read as if
		// they had been away for 90 days.
		if line := accessBlocks(a)[0].Lines[0]; !strings.Contains(line, "(never signed in included, new users too): bob, carol.") {
			t.Errorf("access line %q", line)
		}
		for _, u := range a.Users {
			if u.Name == "alice" && (u.LastSignIn == nil || !u.LastSignIn.Equal(t0.Add(7*time.Hour))) {
				t.Errorf("alice %+v", u)
			}
		}
		flags := map[string]bool{}
		for _, tk := range a.Tokens {
			flags[tk.Owner] = tk.NeverUsed
		}
		if len(a.Tokens) != 2 || flags["alice"] || !flags["bob"] {
			t.Errorf("tokens %+v", a.Tokens)
		}
	})
	t.Run("audit", func(t *testing.T) {
		a := r.Audit
		if !a.Chain.OK || a.RefusedLogins != 1 || a.SecurityTotal != 2 || a.FailedChanges != 1 || len(a.Security) != 2 || a.Security[0].Actor != "alice" {
			t.Errorf("audit %+v", a)
		}
		if len(a.Backups) != 1 || a.Backups[0].Outcome != audit.Failed || a.LastBackup == nil || !a.LastBackup.Equal(t0.Add(-48*time.Hour)) {
			t.Errorf("backups %+v, last %v", a.Backups, a.LastBackup)
		}
		acts := map[string]int{}
		for _, c := range a.Changes {
			acts[c.Action]++
		}
		if acts["deploy.activate"] != 4 || acts["deploy.rollback"] != 1 || acts["token.create"] != 2 {
			t.Errorf("changes %v", acts)
		}
	})
	t.Run("no secrets", func(t *testing.T) {
		var out bytes.Buffer
		json.NewEncoder(&out).Encode(r)
		WriteText(&out, r)
		WriteMarkdown(&out, r)
		for _, s := range secrets {
			if strings.Contains(out.String(), s) {
				t.Fatal("a token secret is in the report")
			}
		}
		for _, s := range []string{"$argon2", "correct horse"} {
			if strings.Contains(out.String(), s) {
				t.Fatalf("%q is in the report", s)
			}
		}
	})
}

func TestReportLeavesOutWhatTheCallerMayNotSee(t *testing.T) {
	f, _ := seed(t)
	r := build(t, f, Options{CanRead: func(p, env string) bool { return env != "production" }})
	if r.Access != nil || r.Audit != nil {
		t.Fatal("access review or audit for a caller without users.manage and audit.read")
	}
	notes := strings.Join(r.Notes, "\n")
	if !strings.Contains(notes, "users.manage") || !strings.Contains(notes, "audit.read") {
		t.Errorf("notes %q", notes)
	}
	if len(r.Performance.Environments) != 0 || r.Incidents.Fired != 0 || r.Delivery.Deployments != 1 {
		t.Errorf("production leaked: %+v %+v %+v", r.Performance, r.Incidents, r.Delivery)
	}
}

func TestReportSaysWhenThereIsNoData(t *testing.T) {
	f := newFixture(t, t0)
	r := build(t, f, Options{AuditRead: true, AccessReview: true})
	var out bytes.Buffer
	if err := WriteMarkdown(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no probe results or edge requests", "no deployment, rollback or release run", "no alert fired",
		"no release run in the window", "no audit record in the window"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
