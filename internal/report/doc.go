package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Block is one part of a report laid out for reading: a heading, lines
// of text and a table. The text, Markdown and HTML renderings share it.
type Block struct {
	Title  string
	Level  int // 1 section, 2 part of a section
	Lines  []string
	Header []string
	Rows   [][]string
}

// Blocks lays r out for reading, section by section.
func Blocks(r *Report) []Block {
	out := []Block{{Title: "Phoenix report", Level: 1, Lines: header(r)}}
	out = append(out, perfBlocks(r.Performance)...)
	out = append(out, deliveryBlocks(r.Delivery)...)
	out = append(out, incidentBlocks(r.Incidents)...)
	out = append(out, securityBlocks(r.Security)...)
	out = append(out, accessBlocks(r.Access)...)
	out = append(out, auditBlocks(r.Audit)...)
	if len(r.Notes) > 0 {
		out = append(out, Block{Title: "Notes", Level: 1, Lines: r.Notes})
	}
	return out
}

func header(r *Report) []string {
	scope := "every project"
	if r.Project != "" {
		scope = "project " + r.Project
	}
	return []string{fmt.Sprintf("Window %s to %s (UTC), %s; generated %s.", stamp(r.From), stamp(r.To), scope, stamp(r.GeneratedAt)),
		"Sections: " + strings.Join(r.Sections, ", ") + "."}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func optStamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return stamp(*t)
}

func pctS(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64) + "%"
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// dur writes seconds as a short duration (1h2m3s).
func dur(secs *float64) string {
	if secs == nil {
		return "-"
	}
	return config.FormatDuration(time.Duration(*secs * float64(time.Second)).Round(time.Second))
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func note(title, text string) []Block {
	return []Block{{Title: title, Level: 1, Lines: []string{text}}}
}

func perfBlocks(p *Performance) []Block {
	if p == nil {
		return nil
	}
	if p.Note != "" && p.Host == nil {
		return note("Performance", p.Note)
	}
	b := Block{Title: "Performance", Level: 1, Header: []string{"PROJECT", "ENV", "AVAILABILITY", "BASIS", "TARGET", "MET",
		"REQUESTS", "ERROR RATE", "MEAN MS", "WORST HOUR MEAN MS", "MAX MS"}}
	if p.Note != "" {
		b.Lines = []string{p.Note}
	}
	for _, e := range p.Environments {
		row := []string{e.Project, e.Environment, pctS(e.AvailabilityPct), e.Basis, pctS(e.TargetPct), "-", "-", "-", "-", "-", "-"}
		if !e.Since.IsZero() {
			row[2] += " since " + stamp(e.Since)
		}
		if e.MetTarget != nil {
			row[5] = yes(*e.MetTarget)
		}
		st := e.Probes
		if e.Requests != nil {
			st = e.Requests
			row[6], row[7] = strconv.FormatInt(e.Requests.Count, 10), num(e.Requests.ErrorRatePct)+"%"
		}
		row[8], row[10] = num(st.MeanMS), num(st.MaxMS)
		if st.WorstHour != nil {
			row[9] = num(st.WorstHour.MeanMS) + " (" + stamp(st.WorstHour.Start) + ")"
		}
		b.Rows = append(b.Rows, row)
	}
	out := []Block{b}
	if h := p.Host; h != nil {
		hb := Block{Title: "Server utilization", Level: 2, Header: []string{"METRIC", "SAMPLES", "MEAN", "MAX", "WORST HOUR MEAN"}}
		for _, u := range []struct {
			name string
			u    *Usage
		}{{"cpu", h.CPU}, {"memory", h.Memory}} {
			if u.u != nil {
				hb.Rows = append(hb.Rows, []string{u.name, strconv.FormatInt(u.u.Samples, 10), num(u.u.MeanPct) + "%",
					num(u.u.MaxPct) + "%", num(u.u.WorstHourMeanPct) + "% (" + stamp(u.u.WorstHourStart) + ")"})
			}
		}
		out = append(out, hb)
	}
	return out
}

func deliveryBlocks(d *Delivery) []Block {
	if d == nil {
		return nil
	}
	if d.Note != "" {
		return note("Delivery", d.Note)
	}
	b := Block{Title: "Delivery", Level: 1, Lines: []string{
		fmt.Sprintf("Deployments: %d (%s a day), rolled back later: %d, change failure rate %s; rollbacks: %d.",
			d.Deployments, num(d.PerDay), d.Failed, pctS(d.ChangeFailurePct), d.Rollbacks),
		fmt.Sprintf("Release runs: %d %s; median release run %s.", d.Releases, statusList(d.ReleaseStatus), dur(d.MedianReleaseSeconds)),
		fmt.Sprintf("Time to restore (alert firing to resolved): median %s, mean %s.", dur(d.MedianRestoreSeconds), dur(d.MeanRestoreSeconds)),
	}, Header: []string{"PROJECT", "ENV", "DEPLOYMENTS", "FAILED", "CHANGE FAILURE", "ROLLBACKS", "RELEASES"}}
	for _, e := range d.Environments {
		b.Rows = append(b.Rows, []string{e.Project, e.Environment, strconv.Itoa(e.Deployments), strconv.Itoa(e.Failed),
			pctS(e.ChangeFailurePct), strconv.Itoa(e.Rollbacks), strings.Join(e.Releases, ", ")})
	}
	return []Block{b}
}

func statusList(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func incidentBlocks(in *Incidents) []Block {
	if in == nil {
		return nil
	}
	if in.Note != "" {
		return note("Incidents", in.Note)
	}
	b := Block{Title: "Incidents", Level: 1, Lines: []string{fmt.Sprintf(
		"%d fired, %d resolved, %d open; time to restore median %s, mean %s; mean time to acknowledge %s.",
		in.Fired, in.Resolved, in.Open, dur(in.MedianRestoreSeconds), dur(in.MeanRestoreSeconds), dur(in.MeanAckSeconds))},
		Header: []string{"ALERT", "SEVERITY", "FIRED", "RESOLVED", "DURATION", "ACKNOWLEDGED BY", "TIME TO ACK"}}
	for _, a := range in.Alerts {
		resolved := "open"
		if a.Resolved != nil {
			resolved = stamp(*a.Resolved)
		}
		d := a.DurationSeconds
		b.Rows = append(b.Rows, []string{a.ID, SeverityName(a.Severity), stamp(a.Fired), resolved, dur(&d), dash(a.AckBy), dur(a.AckSeconds)})
	}
	return []Block{b}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
