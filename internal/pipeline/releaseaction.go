package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// releaseAction is the release action: a step (of a workflow, above all
// one a pushed tag's webhook starts) that asks for a release of the
// run's project, as phoenix release does, and outputs its run. It does
// not wait for it: the release queues behind what holds its environments
// and may wait at an approval gate for hours; it is a run of its own,
// with its own gates, checks and notifications.
//
// Inputs: version (default the run's: a webhook's tag), environments
// (default the project's release environments), commit (default the tag
// when the version is the run's, else the folder's HEAD, as phoenix
// release takes). The release's actor is the run's (a webhook's sender),
// so they cannot approve it.
func (s *Service) releaseAction(ctx context.Context, sc *action.Context) error {
	version, commit := sc.String("version"), sc.String("commit")
	if version == "" && sc.Run.Version != "" {
		// The run's version is the tag its webhook named: release what
		// the tag points at (GitHub's create event names no commit).
		version = sc.Run.Version
		commit = firstNonEmpty(commit, "refs/tags/"+version)
	}
	if version == "" {
		return errors.New("no version to release: give the step `with: {version: v1.4.2}`, or start the workflow from a tag (a webhook's push or create of refs/tags/...)")
	}
	run, err := s.Release(ctx, ReleaseRequest{Dir: sc.Run.Folder, Version: version, Environments: sc.Strings("environments"),
		Commit: commit, Actor: sc.Run.Actor, Trigger: releaseTrigger(sc.Run)})
	if err != nil {
		return fmt.Errorf("release %s: %w", version, err)
	}
	sc.Logf("started release run %d: %s of %s to %s (phoenix runs %d)", run.ID, version, run.Project,
		strings.Join(run.Environments, ", "), run.ID)
	sc.SetOutput("run", itoa(run.ID))
	return nil
}

// releaseTrigger is what a release a step starts records as its trigger:
// the workflow and run that asked for it.
func releaseTrigger(r action.RunInfo) string {
	if r.Workflow != "" {
		return "workflow " + r.Workflow + " (run " + r.ID + ")"
	}
	return "run " + r.ID
}
