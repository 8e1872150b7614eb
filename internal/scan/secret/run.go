package secret

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// Allowed is one known false positive; every field set must match.
type Allowed struct {
	Path        string // .phoenixignore-style pattern of the file
	Rule        string // rule id
	Fingerprint string // as printed in findings
	Reason      string
}

// Options tune Run. The zero value uses the default rules.
type Options struct {
	Rules       *Ruleset  // nil: DefaultRules()
	Allow       []Allowed // known false positives
	Exclude     []string  // extra ignore patterns (phoenix.yaml checks.secrets.exclude)
	MaxFileSize int64     // larger files are read in pieces of this size (default 10 MiB)
	Workers     int       // default GOMAXPROCS
	// Known are values known to be secret (a pipeline run's own, resolved
	// from the vault): a file holding one, as written, has a finding of
	// rule run-secret. Values shorter than 8 bytes are left out.
	Known [][]byte
	Now   time.Time
}

// skipDirs are never scanned.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".hg": true, ".svn": true}

// Run scans every text file under dir (source tree and build output
// alike), honouring .phoenixignore at dir's root. Unreadable files become
// report problems; the scan goes on. Files are read through an os.Root at
// dir: a symbolic link is never followed by the walk (what it leads to
// inside dir is scanned at its own path), and one leading outside dir is
// named in a warning, not scanned.
func Run(ctx context.Context, dir string, opts Options) (*report.Report, error) {
	if opts.Rules == nil {
		opts.Rules = DefaultRules()
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 10 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	r := report.New(report.Secret, dir, opts.Now)
	r.Stats = map[string]int{}
	root, err := os.OpenRoot(dir)
	if err == nil { // else the walk says why dir cannot be read
		defer root.Close()
	}
	ig := readIgnore(root, r)
	for _, p := range append(append([]string{}, opts.Rules.Allowlist.Paths...), opts.Exclude...) {
		ig.Add(p)
	}
	files, err := walk(ctx, dir, root, ig, r)
	if err != nil {
		return nil, err
	}
	scanFiles(ctx, root, files, opts, r)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Sort()
	return r, nil
}

// walk lists the files of dir to scan, slash-separated from dir: not the
// folders skipDirs or ig leave out, nor what is not a regular file. A
// symbolic link leading outside root, dir, is counted and named in a
// warning (outsideLink).
func walk(ctx context.Context, dir string, root *os.Root, ig *Ignore, r *report.Report) ([]string, error) {
	var files []string
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // the folder given may be a link: WalkDir would not enter it
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			r.Problems = append(r.Problems, report.Problem{File: rel, Msg: err.Error()})
			return nil
		}
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if skipDirs[d.Name()] || ig.Match(rel, true) {
				return filepath.SkipDir
			}
			return nil
		}
		if ig.Match(rel, false) {
			r.Stats["ignored"]++
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && outsideLink(root, rel, r) {
			return nil
		}
		if !d.Type().IsRegular() {
			r.Stats["ignored"]++
			return nil
		}
		files = append(files, rel)
		return nil
	})
	sort.Strings(files)
	return files, err
}

type fileResult struct {
	rel     string
	matches []Match
	err     error
	binary  bool
	size    int
}

func scanFiles(ctx context.Context, root *os.Root, files []string, opts Options, r *report.Report) {
	results := make([]fileResult, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &scanner{rs: opts.Rules, known: opts.Known}
			for i := range next {
				results[i] = scanFile(s, root, files[i], int(opts.MaxFileSize))
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, fr := range results {
		collect(r, fr, opts.Allow)
	}
}

func scanFile(s *scanner, root *os.Root, rel string, limit int) fileResult {
	if root == nil { // dir could be listed but not opened as a root
		return fileResult{rel: rel, err: errors.New("the folder scanned cannot be opened")}
	}
	ms, size, binary, err := s.scanPath(root, rel, path.Base(rel), limit)
	return fileResult{rel: rel, matches: ms, size: size, binary: binary, err: err}
}

func collect(r *report.Report, fr fileResult, allow []Allowed) {
	switch {
	case fr.rel == "":
		return // never handed out (cancelled)
	case fr.err != nil:
		r.Problems = append(r.Problems, report.Problem{File: fr.rel, Msg: "not scanned: " + fr.err.Error()})
		return
	case fr.binary:
		r.Stats["binary"]++
		return
	}
	r.Scanned++
	r.Stats["bytes"] += fr.size
	for _, m := range fr.matches {
		if allowed(allow, fr.rel, m) {
			r.Stats["allowlisted"]++
			continue
		}
		r.Findings = append(r.Findings, report.Finding{Kind: report.Secret, RuleID: m.Rule.ID, Severity: m.Rule.Severity,
			Title: m.Rule.Description, File: fr.rel, Line: m.Line, Column: m.Column, Redacted: m.Redacted, Fingerprint: m.Fingerprint})
	}
}

// allowed reports whether an entry of list covers m in file rel. An entry
// naming the generic rule's fingerprint of a secret a provider's rule now
// reports (before, the earlier rule won) still covers it.
func allowed(list []Allowed, rel string, m Match) bool {
	for _, a := range list {
		if a.Path == "" && a.Rule == "" && a.Fingerprint == "" {
			continue
		}
		if a.covers(m.identities()) && a.coversPath(rel) {
			return true
		}
	}
	return false
}

func (a Allowed) covers(ids []identity) bool {
	for _, id := range ids {
		if (a.Rule == "" || a.Rule == id.rule) && (a.Fingerprint == "" || a.Fingerprint == id.fingerprint) {
			return true
		}
	}
	return false
}

func (a Allowed) coversPath(rel string) bool {
	if a.Path == "" {
		return true
	}
	ig := &Ignore{}
	ig.Add(a.Path)
	if ig.Match(rel, false) {
		return true
	}
	ok, _ := path.Match(a.Path, rel)
	return ok
}
