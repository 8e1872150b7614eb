// Package audit matches every package in a project's lockfiles against a
// local OSV advisory database and reports the affected ones with the
// dependency path that pulls them in, prod or dev, and the first fixed
// version.
package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// Options tune a run. The zero value works.
type Options struct {
	Now    time.Time     // defaults to time.Now()
	MaxAge time.Duration // warn when the database is older; 0 disables
}

// Run audits the lockfiles in dir against db. Unreadable lockfiles,
// malformed entries and advisories that cannot be compared become
// report problems (gates fail closed on them); the rest is still audited.
// The error is only for a cancelled context or a missing database.
func Run(ctx context.Context, dir string, db *osv.DB, opts Options) (*report.Report, error) {
	if db == nil {
		return nil, errors.New("audit: no advisory database; run phoenix advisories import PATH")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	r := report.New(report.Vulnerability, dir, opts.Now)
	r.Stats = map[string]int{}
	r.Extra = map[string]string{"advisories_imported_at": db.Meta.ImportedAt.Format(time.RFC3339), "advisories_source": db.Meta.Source}
	if w := db.StaleWarning(opts.Now, opts.MaxAge); w != "" {
		r.Warnings = append(r.Warnings, w)
	}
	for _, p := range db.Meta.Problems {
		r.Problems = append(r.Problems, report.Problem{File: "advisory database", Msg: p})
	}
	locks, err := lockfile.Load(ctx, dir)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.Problems = append(r.Problems, report.LoadProblems(dir, err)...)
	for _, l := range locks {
		if err := auditLockfile(ctx, dir, l, db, r); err != nil {
			return nil, err
		}
	}
	r.Sort()
	return r, nil
}

func auditLockfile(ctx context.Context, dir string, l *lockfile.Lockfile, db *osv.DB, r *report.Report) error {
	file := rel(dir, l.Path)
	if s := l.Source(); s != "" { // a workspace root's, above dir
		file = l.RelPath(dir)
		r.Notes = append(r.Notes, s)
	}
	r.Sources = append(r.Sources, file+" ("+l.Format+")")
	for _, p := range l.Problems {
		r.Problems = append(r.Problems, report.Problem{File: file, Entry: p.Entry, Line: p.Line, Msg: p.Msg})
	}
	seen := map[string]int{} // advisory+package+version -> finding index
	for _, p := range l.Packages {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Scanned++
		if !lockfile.IsRegistryVersion(p.Version) {
			r.Stats["skipped_non_registry"]++
			continue
		}
		recs, err := db.Lookup(p.Ecosystem, p.Name)
		if err != nil {
			r.Problems = append(r.Problems, report.Problem{File: file, Entry: p.ID(), Msg: err.Error()})
			continue
		}
		for i := range recs {
			matchOne(r, file, p, &recs[i], seen)
		}
	}
	return nil
}

func matchOne(r *report.Report, file string, p lockfile.Package, rec *osv.Record, seen map[string]int) {
	hit, fixed, err := rec.Match(p.Version)
	if err != nil {
		r.Problems = append(r.Problems, report.Problem{File: file, Entry: p.ID(), Line: p.Line, Msg: err.Error()})
		return
	}
	if !hit {
		return
	}
	if rec.Withdrawn != nil {
		r.Stats["withdrawn_ignored"]++
		return
	}
	f := report.Finding{Kind: report.Vulnerability, RuleID: rec.ID, Severity: rec.Severity.Level, Score: rec.Severity.Score,
		Title: rec.Summary, Aliases: rec.Aliases, URL: rec.URL, Ecosystem: p.Ecosystem, Package: p.Name, Version: p.Version,
		Dev: p.Dev, DepPath: p.Path, FixedIn: fixed, File: file, Line: p.Line}
	if f.Title == "" {
		f.Title = fmt.Sprintf("%s affects %s", rec.ID, p.Name)
	}
	key := rec.ID + "\x00" + p.ID()
	if i, ok := seen[key]; ok {
		old := &r.Findings[i]
		if old.Dev && !f.Dev || old.Dev == f.Dev && len(f.DepPath) < len(old.DepPath) {
			*old = f // keep the production, shortest path instance
		}
		return
	}
	seen[key] = len(r.Findings)
	r.Findings = append(r.Findings, f)
}

func rel(dir, path string) string {
	if path == "" {
		return filepath.Base(dir)
	}
	if r, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}
