package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// ReleaseRuns lists the release runs of project ("" for every project)
// created at or after from and before to, oldest first, for reports
// (internal/report). Their plans are left out.
func (s *Service) ReleaseRuns(ctx context.Context, project string, from, to time.Time) ([]Run, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+runCols+` FROM pipeline_runs
		WHERE kind = 'release' AND ($1 = '' OR project = $1) ORDER BY id`, project)
	if err != nil {
		return nil, fmt.Errorf("pipeline: release runs: %w", err)
	}
	// Times are RFC 3339 text of varying width: compared as times here.
	return scanRuns(rows, func(r *Run) bool { return !r.Created.Before(from) && r.Created.Before(to) })
}

// scanRuns reads rows of runCols, plans left out, keeping those keep
// accepts (all when nil).
func scanRuns(rows *sql.Rows, keep func(*Run) bool) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		if keep != nil && !keep(r) {
			continue
		}
		r.dropPlan()
		r.shown()
		out = append(out, *r)
	}
	return out, rows.Err()
}

// ReleaseRun returns the newest release run of project for version, nil
// when there is none (retention pruned it, or it was deployed by hand).
func (s *Service) ReleaseRun(ctx context.Context, project, version string) (*Run, error) {
	r, err := scanRun(s.opts.DB.QueryRowContext(ctx, `SELECT `+runCols+` FROM pipeline_runs
		WHERE kind = 'release' AND project = $1 AND version = $2 ORDER BY id DESC LIMIT 1`, project, version))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("pipeline: release run of %s %s: %w", project, version, err)
	}
	r.dropPlan()
	return r, nil
}

// GateResult is what one security gate step of a run found, read back
// from the summary the gate wrote to its log.
type GateResult struct {
	Step    string         `json:"step"`
	Status  string         `json:"status"`             // the step's status
	Counts  map[string]int `json:"counts"`             // findings by severity (none for licences: see Verdict)
	Scanned int            `json:"scanned"`            // packages or files looked at
	Unit    string         `json:"unit,omitempty"`     // packages or files
	Verdict map[string]int `json:"verdicts,omitempty"` // licences: findings by verdict
	// Problems counts input the gate could not check (it fails closed).
	Problems int `json:"problems,omitempty"`
	// Exceptions are the findings an exception accepted.
	Exceptions []GateException `json:"exceptions,omitempty"`
	// Recorded is false when the step ran but its log holds no summary
	// (it failed before scanning, or its log was pruned).
	Recorded bool `json:"recorded"`
}

// GateException is one finding a phoenix.yaml exception accepted.
type GateException struct {
	Text    string    `json:"text"` // finding, exception, reason, as the gate logged it
	Expires time.Time `json:"expires,omitzero"`
}

// Gates are a run's security gate results, by kind; nil where the run had
// no such step.
type Gates struct {
	Audit    *GateResult `json:"audit,omitempty"`
	Licenses *GateResult `json:"licenses,omitempty"`
	Secrets  *GateResult `json:"secrets,omitempty"`
	// SBOM is the check-sbom step's status and whether it wrote an SBOM.
	SBOMStatus string `json:"sbom_status,omitempty"`
	SBOM       bool   `json:"sbom"`
	// Disabled are the gates the run has no step of because phoenix.yaml
	// turned them off, as its plan recorded when the release was made
	// (a run from before plans recorded it has none).
	Disabled []spec.DisabledCheck `json:"disabled,omitempty"`
}

// Gates reads the security gate results of run id from its gate steps
// (those using check/audit, check/licenses, check/secrets, check/sbom, or
// named check-audit … as the default release plan names them):
// each gate logs a summary line ("vulnerability: 1 critical, 2 high in 120
// packages"), its table and "excepted: …" lines; the SBOM step records
// its file as the output "path". Disabled are the gates its plan recorded
// as turned off in phoenix.yaml that no step runs.
//
// A promotion's run, which left out the gates that read the build
// (spec.Plan.Promote), has those of the run that built the artifact it
// deployed, their Step saying which run that was ("run 12:
// check-secrets").
func (s *Service) Gates(ctx context.Context, id int64) (*Gates, error) {
	r, g, err := s.gates(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, om := range r.Plan.Omitted {
		if om.BuiltBy == "" {
			continue
		}
		if err := s.builtByGates(ctx, om.BuiltBy, g); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// builtByGates fills the gates g lacks with those of run, the run that
// built a promotion's artifact; nothing when it is gone (pruned).
func (s *Service) builtByGates(ctx context.Context, run string, g *Gates) error {
	id, err := strconv.ParseInt(run, 10, 64)
	if err != nil {
		return nil
	}
	_, src, err := s.gates(ctx, id)
	if usererr.KindOf(err) == usererr.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	for _, pair := range [][2]**GateResult{{&g.Audit, &src.Audit}, {&g.Licenses, &src.Licenses}, {&g.Secrets, &src.Secrets}} {
		if *pair[0] == nil && *pair[1] != nil {
			res := **pair[1]
			res.Step = "run " + run + ": " + res.Step
			*pair[0] = &res
		}
	}
	if g.SBOMStatus == "" {
		g.SBOMStatus, g.SBOM = src.SBOMStatus, src.SBOM
	}
	return nil
}

// gates reads the gate results of run id's own steps.
func (s *Service) gates(ctx context.Context, id int64) (*Run, *Gates, error) {
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	steps, err := s.loadSteps(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	kinds := map[string]string{}
	for _, st := range r.Plan.Steps {
		kinds[st.ID] = gateKind(st.Uses, st.Name)
	}
	g := &Gates{Disabled: r.Plan.LeftOut()}
	for _, st := range steps {
		kind := kinds[st.ID]
		dst := map[string]**GateResult{"audit": &g.Audit, "licenses": &g.Licenses, "secrets": &g.Secrets}[kind]
		if kind == "sbom" {
			g.SBOMStatus, g.SBOM = st.Status, st.Status == Succeeded && st.Outputs["path"] != ""
		}
		if dst == nil {
			continue
		}
		res, ok := GateFromOutput(kind, st.Outputs["summary"])
		if !ok { // a run from before gates recorded their summary
			var buf bytes.Buffer
			if err := s.Logs(ctx, id, LogOptions{Step: st.ID}, &buf); err != nil {
				return nil, nil, err
			}
			res = ParseGateLog(buf.Bytes())
		}
		res.Step, res.Status = st.ID, st.Status
		*dst = res
	}
	return r, g, nil
}

// GateFromOutput reads the summary a gate step recorded as its output
// "summary" (action.GateSummary); ok is false when there is none or it
// does not decode.
func GateFromOutput(kind, summary string) (*GateResult, bool) {
	if summary == "" {
		return nil, false
	}
	var g action.GateSummary
	if err := json.Unmarshal([]byte(summary), &g); err != nil {
		return nil, false
	}
	res := &GateResult{Counts: g.Counts, Scanned: g.Scanned, Unit: "packages", Verdict: g.Verdicts, Problems: g.Problems,
		Recorded: true}
	if res.Counts == nil {
		res.Counts = map[string]int{}
	}
	if kind == "secrets" {
		res.Unit = "files"
	}
	for _, text := range g.Exceptions {
		res.Exceptions = append(res.Exceptions, gateException(text))
	}
	return res, true
}

// gateKind names the gate a step runs: the action it uses (check/audit),
// else its name (check-audit, as the default release plan names them).
func gateKind(uses, name string) string {
	if k, ok := strings.CutPrefix(uses, "check/"); ok {
		return k
	}
	if uses == "" {
		if k, ok := strings.CutPrefix(name, "check-"); ok {
			return k
		}
	}
	return ""
}

var (
	gateSummary = regexp.MustCompile(`^(vulnerability|license|secret): (.+) in (\d+) (packages|files)(?:; (\d+) problems \(input not checked\))?$`)
	gateCount   = regexp.MustCompile(`^(\d+) ([a-z]+)$`)
	gateExpiry  = regexp.MustCompile(`; expires (\d{4}-\d{2}-\d{2})\)$`)
)

// ParseGateLog reads a gate step's log (scan/report.WriteTable's table and
// summary, then the gate's lines). Lines it does not know are skipped.
func ParseGateLog(log []byte) *GateResult {
	res := &GateResult{Counts: map[string]int{}}
	inLicences := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		switch {
		case strings.HasPrefix(line, "VERDICT "):
			inLicences = true
		case gateSummary.MatchString(line):
			inLicences = false
			parseSummary(res, gateSummary.FindStringSubmatch(line))
		case strings.HasPrefix(line, "excepted: "):
			res.Exceptions = append(res.Exceptions, gateException(strings.TrimPrefix(line, "excepted: ")))
		case inLicences && !strings.HasPrefix(line, "problem: ") && !strings.HasPrefix(line, "warning: "):
			if v, _, ok := strings.Cut(line, " "); ok && v != "" {
				if res.Verdict == nil {
					res.Verdict = map[string]int{}
				}
				res.Verdict[v]++
			}
		}
	}
	return res
}

// gateException is an applied exception as the gate wrote it ("finding:
// exception (reason; expires DATE)"), with its expiry read back.
func gateException(text string) GateException {
	e := GateException{Text: text}
	if m := gateExpiry.FindStringSubmatch(text); m != nil {
		e.Expires, _ = time.Parse(time.DateOnly, m[1])
	}
	return e
}

// parseSummary reads a gate's summary line. A licence gate's counts are
// verdicts ("1 deny, 2 review"; before, severities standing in for them:
// "1 high, 2 moderate"), which its table gives: none is a severity.
func parseSummary(res *GateResult, m []string) {
	res.Recorded, res.Unit = true, m[4]
	res.Scanned, _ = strconv.Atoi(m[3])
	res.Problems, _ = strconv.Atoi(m[5])
	if m[1] == "license" {
		return
	}
	for _, part := range strings.Split(m[2], ", ") {
		if c := gateCount.FindStringSubmatch(part); c != nil {
			n, _ := strconv.Atoi(c[1])
			res.Counts[c[2]] += n
		}
	}
}
