package report

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// AuditSection is the audit log's verdict and what it recorded in the
// window: every action counted, the changes, and the security events.
type AuditSection struct {
	Chain    Chain               `json:"chain"`
	Records  int64               `json:"records"`
	ByAction []audit.ActionCount `json:"by_action"`
	// Changes are the successful deployments, rollbacks and changes of
	// configuration, access and secrets (change tracking), at most
	// ListLimit of them; ChangesTotal counts them all.
	Changes      []audit.Record `json:"changes"`
	ChangesTotal int64          `json:"changes_total"`
	// Security are the refused, failed and rate-limited records (wrong
	// passwords, denied requests, rate limits), at most ListLimit.
	Security      []audit.Record `json:"security_events"`
	SecurityTotal int64          `json:"security_events_total"`
	RefusedLogins int64          `json:"refused_logins"`
	Denied        int64          `json:"denied"`
	RateLimited   int64          `json:"rate_limited"`
	FailedChanges int64          `json:"failed_changes"`
	// Backups are the window's backup.create records (their detail holds
	// the restore test's result); LastBackup the newest successful one
	// before the window's end, wherever it falls.
	Backups     []audit.Record `json:"backups"`
	LastBackup  *time.Time     `json:"last_backup,omitempty"`
	Note        string         `json:"note,omitempty"`
	ChangesCut  bool           `json:"changes_cut,omitempty"`
	SecurityCut bool           `json:"security_events_cut,omitempty"`
}

// Chain is the verification of the whole log (hash chain and checkpoints).
type Chain struct {
	OK          bool   `json:"ok"`
	Records     int64  `json:"records"`
	Checkpoints int    `json:"checkpoints"`
	Signed      int64  `json:"signed_through"`
	Unsigned    int64  `json:"unsigned"`
	FirstBad    int64  `json:"first_bad,omitempty"`
	Problem     string `json:"problem,omitempty"`
}

// ListLimit bounds the records a section lists.
const ListLimit = 500

// changePrefixes are the actions that change what runs or who may act.
var changePrefixes = []string{"deploy.activate", "deploy.rollback", "env.", "edge.", "user.", "token.", "vault.",
	"secret.write", "secret.rotate", "secret.delete", "secret.recover", "secret.purge", "secret.import", "secret.enable",
	"secret.tags", "pipeline.approve", "pipeline.reject", "pipeline.release", "monitor.silence", "backup."}

func (b *builder) auditSection(ctx context.Context) (*AuditSection, error) {
	if !b.o.AuditRead {
		b.note("audit: left out: the audit section needs the audit.read permission")
		return nil, nil
	}
	if b.src.Audit == nil {
		b.note("audit: left out: this server has no audit log")
		return nil, nil
	}
	v, err := b.src.Audit.Verify(ctx)
	if err != nil {
		return nil, err
	}
	s := &AuditSection{Chain: Chain{OK: v.OK, Records: v.Records, Checkpoints: v.Checkpoints, Signed: v.Signed,
		Unsigned: v.Unsigned, FirstBad: v.FirstBad, Problem: v.Problem}, ByAction: []audit.ActionCount{}}
	counts, err := b.src.Audit.Counts(ctx, b.o.From, b.o.To)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		s.ByAction = append(s.ByAction, c)
		s.Records += c.Count
		tally(s, c)
	}
	if s.Changes, err = b.changes(ctx); err != nil {
		return nil, err
	}
	if s.Security, err = b.src.Audit.Between(ctx, b.o.From, b.o.To, audit.Selection{Refused: true}, ListLimit); err != nil {
		return nil, err
	}
	s.Security = append([]audit.Record{}, s.Security...) // [] in JSON when there are none, not null
	if err := b.backups(ctx, s); err != nil {
		return nil, err
	}
	s.ChangesCut, s.SecurityCut = int64(len(s.Changes)) < s.ChangesTotal, int64(len(s.Security)) < s.SecurityTotal
	if s.Records == 0 {
		s.Note = "no audit record in the window"
	}
	return s, nil
}

// tally adds one action count to the section's totals.
func tally(s *AuditSection, c audit.ActionCount) {
	if c.Outcome != audit.OK && c.Outcome != "" {
		s.SecurityTotal += c.Count
		switch {
		case c.Outcome == audit.RateLimited:
			s.RateLimited += c.Count
		case c.Action == "auth.login":
			s.RefusedLogins += c.Count
		case c.Outcome == audit.Denied:
			s.Denied += c.Count
		default:
			s.FailedChanges += c.Count
		}
		return
	}
	if isChange(c.Action) {
		s.ChangesTotal += c.Count
	}
}

func isChange(action string) bool {
	for _, p := range changePrefixes {
		if len(action) >= len(p) && action[:len(p)] == p {
			return true
		}
	}
	return false
}

// changes lists the successful changes of the window.
func (b *builder) changes(ctx context.Context) ([]audit.Record, error) {
	recs, err := b.src.Audit.Between(ctx, b.o.From, b.o.To, audit.Selection{Prefixes: changePrefixes}, 4*ListLimit)
	out := []audit.Record{}
	for _, r := range recs {
		if (r.Outcome == audit.OK || r.Outcome == "") && len(out) < ListLimit {
			out = append(out, r)
		}
	}
	return out, err
}

// backups lists the window's backups and finds the last good one.
func (b *builder) backups(ctx context.Context, s *AuditSection) error {
	recs, err := b.src.Audit.Between(ctx, b.o.From, b.o.To, audit.Selection{Prefixes: []string{"backup.create"}}, ListLimit)
	if err != nil {
		return err
	}
	s.Backups = append([]audit.Record{}, recs...)
	last, err := b.src.Audit.LastSuccess(ctx, "backup.create", b.o.To)
	for _, t := range last {
		if s.LastBackup == nil || t.After(*s.LastBackup) {
			s.LastBackup = &t
		}
	}
	return err
}
