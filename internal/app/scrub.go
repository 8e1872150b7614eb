package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// ScrubActor is the audit log's actor of the server's scheduled checks of
// the blob store; 'phoenix store verify' records the user who asked.
const ScrubActor = "phoenix:scrub"

// Defaults of the scheduled check of the blob store.
const (
	DefaultScrubEvery = 7 * 24 * time.Hour
	DefaultScrubRate  = 16 << 20 // bytes a second
)

// StoreReport is what a check of the blob store found.
type StoreReport struct {
	At time.Time `json:"at"`
	// All: every stored blob was read, not only those retained
	// deployments use.
	All      bool          `json:"all"`
	Blobs    int           `json:"blobs"`
	Bytes    int64         `json:"bytes"`
	Problems []BlobProblem `json:"problems"`
}

// BlobProblem is a blob that is not what its name says.
type BlobProblem struct {
	Digest backend.Digest `json:"digest"`
	// Problem: damaged (its bytes do not hash to its name, or their size
	// is not the manifests'), missing, or unreadable (the disk failed).
	Problem string `json:"problem"`
	Error   string `json:"error"`
	// Path is the blob's file in a store on this server's disk.
	Path        string            `json:"path,omitempty"`
	Deployments []deploy.BlobUser `json:"deployments"`
	Repair      string            `json:"repair"`
}

// active reports the active deployments among the blob's users.
func (p BlobProblem) active() []string {
	var out []string
	for _, u := range p.Deployments {
		if u.Active {
			out = append(out, u.String())
		}
	}
	return out
}

// scrubState keeps one check of the blob store running at a time and the
// last one's result, which the built-in blob-damaged alert reads.
type scrubState struct {
	mu   sync.Mutex // held for a whole check
	last sync.Mutex // guards report
	rep  *StoreReport
}

// VerifyStore reads back every blob that a retained deployment uses
// (all: every stored blob), re-hashes it and reports each damaged or
// missing one with the deployments using it; rate, when positive, is the
// most bytes it reads a second. The result is audited (store.verify,
// failed when anything is wrong) and is what the blob-damaged alert
// shows until the next check.
func (a *App) VerifyStore(ctx context.Context, actor string, all bool, rate int64) (*StoreReport, error) {
	a.scrub.mu.Lock()
	defer a.scrub.mu.Unlock()
	rep, err := a.checkBlobs(ctx, all, rate)
	if err != nil && ctx.Err() != nil {
		// Not audited: the newest store.verify record schedules the next
		// check, and an interrupted one (a shutdown) checked nothing.
		a.log.Info("store: check of the blob store interrupted", "err", err)
		return nil, err
	}
	if err != nil {
		a.auditScrub(ctx, actor, nil, err)
		return nil, err
	}
	a.scrub.last.Lock()
	a.scrub.rep = rep
	a.scrub.last.Unlock()
	a.auditScrub(ctx, actor, rep, nil)
	return rep, nil
}

// checkBlobs is VerifyStore's reading.
func (a *App) checkBlobs(ctx context.Context, all bool, rate int64) (*StoreReport, error) {
	rep := &StoreReport{At: time.Now().UTC(), All: all, Problems: []BlobProblem{}}
	blobs, err := a.blobsToCheck(ctx, all)
	if err != nil {
		return nil, err
	}
	wrap := limitReader(ctx, rate, &rep.Bytes)
	for _, b := range blobs {
		err := artifact.CheckBlob(ctx, a.store, b.Info, wrap)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Blobs++
		if err != nil {
			rep.Problems = append(rep.Problems, a.blobProblem(b, err))
		}
	}
	if len(rep.Problems) > 0 {
		// A collection may have dropped a deployment, and its blobs,
		// during the check: report only the blobs still needed.
		if rep.Problems, err = a.stillRetained(ctx, all, rep.Problems); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// blobsToCheck lists the retained deployments' blobs and, with all, the
// other stored blobs too (size unknown, no deployment).
func (a *App) blobsToCheck(ctx context.Context, all bool) ([]deploy.RetainedBlob, error) {
	blobs, err := a.Deploy.RetainedBlobs(ctx)
	if err != nil || !all {
		return blobs, err
	}
	seen := make(map[backend.Digest]bool, len(blobs))
	for _, b := range blobs {
		seen[b.Digest] = true
	}
	err = a.store.List(ctx, func(d backend.Digest) error {
		if !seen[d] {
			blobs = append(blobs, deploy.RetainedBlob{Info: backend.Info{Digest: d, Size: -1}})
		}
		return nil
	})
	return blobs, err
}

// stillRetained drops the problems of blobs no retained deployment uses
// any more (with all, only the missing ones: a stored blob was listed).
func (a *App) stillRetained(ctx context.Context, all bool, probs []BlobProblem) ([]BlobProblem, error) {
	now, err := a.Deploy.RetainedBlobs(ctx)
	if err != nil {
		return nil, err
	}
	users := make(map[backend.Digest][]deploy.BlobUser, len(now))
	for _, b := range now {
		users[b.Digest] = b.Users
	}
	out := probs[:0]
	for _, p := range probs {
		u, ok := users[p.Digest]
		if ok || (all && p.Problem != "missing") {
			p.Deployments = u
			if p.Deployments == nil {
				p.Deployments = []deploy.BlobUser{}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// blobProblem describes what CheckBlob found wrong with b.
func (a *App) blobProblem(b deploy.RetainedBlob, err error) BlobProblem {
	p := BlobProblem{Digest: b.Digest, Problem: "unreadable", Error: err.Error(), Deployments: b.Users}
	switch {
	case errors.Is(err, backend.ErrNotFound):
		p.Problem = "missing"
	case errors.Is(err, backend.ErrDigestMismatch), errors.Is(err, backend.ErrSizeMismatch):
		p.Problem = "damaged"
	}
	if path, perr := a.Blobs.Path(b.Digest); perr == nil {
		p.Path = path
	}
	if p.Deployments == nil {
		p.Deployments = []deploy.BlobUser{}
	}
	p.Repair = repairHint(p)
	return p
}

// repairHint says how to put a blob's good bytes back. The store keeps
// one copy of each blob and a Put of a blob it has returns without
// reading, so the bad copy has to go first; the good bytes are in the
// folder or artifact a deploy took them from, and in a backup taken
// before the damage.
func repairHint(p BlobProblem) string {
	var b strings.Builder
	if p.Path != "" && p.Problem != "missing" {
		fmt.Fprintf(&b, "move %s out of the store (a deploy does not replace a blob the store has), then ", p.Path)
	}
	b.WriteString("deploy the folder or artifact ")
	if len(p.Deployments) > 0 {
		fmt.Fprintf(&b, "of %s ", p.Deployments[0])
	}
	b.WriteString("again (a deploy uploads the blobs the store lacks), or copy blobs/" + blobRel(p.Digest) +
		" from a backup snapshot taken before the damage (phoenix backup restore SNAPSHOT --to DIR); then run phoenix store verify")
	return b.String()
}

// blobRel is a blob's file under blobs/ in a data dir (and a backup).
func blobRel(d backend.Digest) string {
	h := d.Hex()
	return backend.Algorithm + "/" + h[:2] + "/" + h
}

// auditScrub records a check: failed when it could not run or found
// problems, naming the first ones.
func (a *App) auditScrub(ctx context.Context, actor string, rep *StoreReport, err error) {
	e := audit.Event{Action: "store.verify", Actor: actor, Target: "blobs"}
	switch {
	case err != nil:
		e.Outcome, e.Detail = audit.Failed, err.Error()
	case len(rep.Problems) > 0:
		e.Outcome, e.Detail = audit.Failed, fmt.Sprintf("%d blob(s), %d bytes read; %s", rep.Blobs, rep.Bytes, problemsDetail(rep.Problems))
	default:
		e.Detail = fmt.Sprintf("%d blob(s), %d bytes read; all intact", rep.Blobs, rep.Bytes)
	}
	for _, p := range problemsOf(rep) {
		a.log.Error("store: blob "+p.Problem, "blob", p.Digest, "deployments", usersText(p.Deployments), "err", p.Error, "repair", p.Repair)
	}
	if _, aerr := a.Audit.Append(context.WithoutCancel(ctx), e); aerr != nil {
		a.log.Error("store: audit", "err", aerr)
	}
}

func problemsOf(rep *StoreReport) []BlobProblem {
	if rep == nil {
		return nil
	}
	return rep.Problems
}

// problemsDetail names the first few problems for the audit record.
func problemsDetail(probs []BlobProblem) string {
	const most = 5
	parts := make([]string, 0, most+1)
	for i, p := range probs {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(probs)-most))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s (used by %s)", p.Digest, p.Problem, usersText(p.Deployments)))
	}
	return fmt.Sprintf("%d problem(s): %s", len(probs), strings.Join(parts, "; "))
}

// maxBlobUsers caps the deployments named for one blob in a message.
const maxBlobUsers = 5

// usersText lists the deployments using a blob for a message, the newest
// few.
func usersText(us []deploy.BlobUser) string {
	if len(us) == 0 {
		return "no retained deployment"
	}
	parts := make([]string, 0, maxBlobUsers+1)
	for i, u := range us {
		if i == maxBlobUsers {
			parts = append(parts, fmt.Sprintf("and %d more", len(us)-i))
			break
		}
		parts = append(parts, u.String())
	}
	return strings.Join(parts, ", ")
}

// blobHealth is the built-in blob-damaged alert's view of the last check:
// the problems of blobs an active deployment serves.
func (a *App) blobHealth(context.Context) ([]monitor.BlobDamage, bool, error) {
	a.scrub.last.Lock()
	rep := a.scrub.rep
	a.scrub.last.Unlock()
	if rep == nil {
		return nil, false, nil
	}
	var out []monitor.BlobDamage
	for _, p := range rep.Problems {
		if act := p.active(); len(act) > 0 {
			out = append(out, monitor.BlobDamage{Digest: string(p.Digest), Problem: p.Problem, Active: act, Repair: p.Repair})
		}
	}
	return out, true, nil
}
