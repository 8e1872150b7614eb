package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/sandbox"
)

// Confinement of steps (Options.Hidden): every process a step starts runs
// in a sandbox that cannot reach the hidden paths (the data dir, the
// server's key files) but for the run's own: the project's folder (the
// run's checkout, for a run building one), its shared files, the step's
// $PHOENIX_OUTPUT and a TMPDIR of the run's; the package managers Phoenix
// installed (Deps.ToolsDir) it may run, not change. A run in a checkout
// cannot reach the project folder it was made from either, but for the
// objects its checkout borrows, read only. Everything else stays as the
// server's user sees it.

// confined reports whether steps run in a sandbox.
func (s *Service) confined() bool { return len(s.opts.Hidden) > 0 }

// tmpDir is the run's TMPDIR for confined steps: with the data dir in
// /tmp, a confined step could not create files in /tmp itself.
func (e *execution) tmpDir() string { return filepath.Join(e.s.runDir(e.run.ID), "tmp") }

// policy is what st's processes may reach, nil when steps are not
// confined; open are paths they may also change (an install's prefix).
func (e *execution) policy(outFile string, open ...string) *sandbox.Policy {
	if !e.s.confined() {
		return nil
	}
	p := &sandbox.Policy{Hidden: append(slices.Clip(e.s.opts.Hidden), e.others...),
		Open: append([]string{e.run.Dir, e.files, outFile, e.tmpDir()}, open...)}
	if e.run.Checkout {
		p.Hidden = append(p.Hidden, e.run.Dir)
		p.Open[0] = e.srcDir()
		p.ReadOnly = append(p.ReadOnly, e.alternates()...)
	}
	if home := e.stepHome(); home != "" {
		p.Open = append(p.Open, home)
	}
	if tools := e.s.opts.Deps.ToolsDir; tools != "" {
		p.ReadOnly = append(p.ReadOnly, tools)
	}
	return p
}

// stepHome is the HOME confined steps get when the server's own is
// hidden or holds a hidden path (a systemd service's home is its data
// dir; a user's holds ~/.local/share/phoenix): a home of the project's
// under Options.Homes, as no new ~/.npm could be made there. "" keeps the
// server's.
func (e *execution) stepHome() string {
	if e.s.opts.Homes == "" || !e.s.homeHidden() {
		return ""
	}
	return filepath.Join(e.s.opts.Homes, e.run.Project)
}

// confinedEnv sets what a confined step's environment changes, unless
// the step sets them itself: its TMPDIR and, where the server's is out of
// reach, its HOME. Both folders are made here.
func (e *execution) confinedEnv(vars map[string]string) error {
	if !e.s.confined() {
		return nil
	}
	if err := os.MkdirAll(e.tmpDir(), 0o700); err != nil {
		return err
	}
	if _, set := vars["TMPDIR"]; !set {
		vars["TMPDIR"] = e.tmpDir()
	}
	if _, set := vars["HOME"]; set {
		return nil
	}
	if home := e.stepHome(); home != "" {
		if err := os.MkdirAll(home, 0o700); err != nil {
			return err
		}
		vars["HOME"] = home
	}
	return nil
}

// homeHidden reports whether steps are confined and the server's HOME
// (Options.Env's) is a hidden path or holds one, so a confined process
// cannot use it as its home (nor git read its ~/.gitconfig).
func (s *Service) homeHidden() bool {
	home := action.Getenv(s.opts.Env, "HOME")
	return s.confined() && home != "" && sandbox.Overlaps(home, s.opts.Hidden)
}

// otherProjects are the folders of the other projects this server
// releases that confined steps may not reach either: a dependency's
// install script of one project can neither read another's source (its
// .env files) nor plant something in its checkout for that project's next
// release. A project in the same repository as the run's (a monorepo,
// whose apps may read each other's files) is left reachable, as is one
// whose folder holds the run's or lies in it.
func (s *Service) otherProjects(ctx context.Context, project, dir string) []string {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT name, dir FROM pipeline_projects WHERE name <> $1`, project)
	if err != nil {
		s.log.Warn("pipeline: other projects' folders not hidden from this run's steps", "project", project, "err", err)
		return nil
	}
	defer rows.Close()
	repo := repoRoot(dir)
	var out []string
	for rows.Next() {
		var name, other string
		if rows.Scan(&name, &other) != nil || other == "" || sandbox.Overlaps(other, []string{dir}) || repoRoot(other) == repo {
			continue
		}
		out = append(out, other)
	}
	return out
}

// repoRoot is the folder of the git repository holding dir (the nearest
// folder with a .git in it), dir itself when none does.
func repoRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			return abs
		}
	}
}
