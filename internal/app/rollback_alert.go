package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// An automatic rollback (the Guard's, after a failed verification) owes
// its project's channels a critical deploy.rolled_back alert (or
// deploy.failed, when there was nothing to roll back to). Its
// transaction records the alert owed (deploy.RevertRequest.Alert), and
// it stays owed until it is in the dispatcher's delivery log, which lives
// in the same database: a stop or a crash between the rollback's commit
// and the alert leaves it owed, and the next start (with replicas, the
// leader) queues it (queueOwed). Its message id is the Guard's, so an
// alert queued just before a crash is not queued twice: the delivery log
// keeps one delivery per channel and message id.

// owedAlertLease: with replicas, an alert owed for less than this may be
// about to be queued by the replica that rolled back (it does so right
// after the commit); the leader leaves it to that replica until then.
const owedAlertLease = time.Minute

// revert is the Guard's Rollback: it takes r back (deploy.Service.Revert)
// and records the alert it owes in the same transaction.
func (a *App) revert(ctx context.Context, r deploy.Release, reason string, facts []notify.Fact) (*deploy.Deployment, error) {
	d, err := a.Deploy.Revert(ctx, deploy.RevertRequest{Project: r.Project, Environment: r.Environment,
		Failed: r.Deployment.ID, Reason: reason, Actor: verifyActor, Alert: true, Facts: facts})
	if err == nil && a.rollbackCommitted != nil {
		a.rollbackCommitted(r.Deployment.ID)
	}
	return d, err
}

// settleAlert queues m, the critical alert of the failed verification
// of deployment failed, and records the alert its automatic rollback
// owed (if any) no longer owed. After the Guard's announcement,
// publishing m again queues nothing more (same id) but makes sure it is
// in the delivery log before the debt is cleared. A message no channel
// took stays owed when the project's channels did not load (a secret of
// a sealed vault): they are not known to want none of it; warn says so
// in the log (a pass of queueOwed after the first does not).
func (a *App) settleAlert(ctx context.Context, failed int64, m notify.Message, warn bool) {
	ctx = context.WithoutCancel(ctx)
	took, err := a.publisher().Publish(ctx, m)
	if err != nil {
		a.log.Error("verify: cannot queue the alert of a failed verification; an automatic rollback's stays owed and the next start sends it",
			"project", m.Project, "env", m.Environment, "deployment", failed, "err", err)
		return
	}
	if len(took) == 0 && !a.channelsLoaded(m.Project) {
		if !warn {
			return
		}
		a.log.Warn("verify: no channel took the alert of a failed verification; an automatic rollback's stays owed and the next start sends it",
			"project", m.Project, "env", m.Environment, "deployment", failed, "why", a.undelivered(m.Project, ""))
		return
	}
	if err := a.Deploy.AlertQueued(ctx, failed); err != nil {
		a.log.Error("verify: cannot record the alert of an automatic rollback queued; the next start queues it again (sent once)",
			"project", m.Project, "env", m.Environment, "deployment", failed, "err", err)
	}
}

// queueOwed queues the alert of every automatic rollback that committed
// without it (the server stopped or crashed in between) before before;
// every one when before is zero.
func (a *App) queueOwed(ctx context.Context, before time.Time) {
	owed, err := a.Deploy.OwedAlerts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("verify: cannot read the alerts automatic rollbacks owe", "err", err)
		}
		return
	}
	for _, o := range owed {
		if !before.IsZero() && o.At.After(before) {
			continue
		}
		if a.projects.get(o.Failed.Project) == nil { // a replica's activation this server has not loaded
			a.loadProject(ctx, o.Failed.Project)
			a.reconfigure()
		}
		first := !a.owedTried.has(o.Failed.ID) // later passes retry quietly (every poll with replicas)
		if first {
			a.log.Warn("verify: an automatic rollback's alert was not sent (the server stopped or crashed after the rollback); sending it now",
				"project", o.Failed.Project, "env", o.Failed.Environment, "deployment", o.Failed.ID,
				"rolled_back_at", o.At.UTC().Format(time.RFC3339))
		}
		a.owedTried.add(o.Failed.ID)
		a.settleAlert(ctx, o.Failed.ID, owedMessage(o), first)
	}
}

// channelsLoaded reports whether project's channels are the ones its
// phoenix.yaml names: not when they failed to load (App.undelivered says
// why) or the monitor is not open.
func (a *App) channelsLoaded(project string) bool {
	if a.projects == nil {
		return false
	}
	a.projects.mu.Lock()
	defer a.projects.mu.Unlock()
	return a.projects.chanErr[project] == nil
}

// owedMessage is the alert o owes, built from what the rollback
// recorded: what failed and why, what serves now, and that it comes late.
// Its id is the Guard's for the same outcome (monitor's failureMessage):
// deploy-ID-rolled-back, or deploy-ID-failed when nothing was rolled back.
func owedMessage(o deploy.OwedAlert) notify.Message {
	f, where := o.Failed, o.Failed.Project+"/"+o.Failed.Environment
	m := notify.Message{ID: fmt.Sprintf("deploy-%d-rolled-back", f.ID), Event: "deploy.rolled_back", Severity: notify.Critical,
		Title: fmt.Sprintf("%s: %s failed verification and was rolled back to %s", where, f.Name(), o.Restored.Name()),
		Text: f.Failure + "\nThis alert comes late: the server stopped or crashed after the rollback (" +
			o.At.UTC().Format("2006-01-02 15:04:05 UTC") + ") and before it was announced.",
		Project: f.Project, Environment: f.Environment, Time: time.Now().UTC(),
		Facts: append([]notify.Fact{{Name: "Failed release", Value: f.Name()}, {Name: "Failed deployment", Value: strconv.FormatInt(f.ID, 10)}},
			o.Facts...),
	}
	if o.Restored.ID == 0 {
		m.ID, m.Event = fmt.Sprintf("deploy-%d-failed", f.ID), "deploy.failed"
		m.Title = fmt.Sprintf("%s: %s failed verification; automatic rollback failed", where, f.Name())
		m.Facts = append(m.Facts, notify.Fact{Name: "Rollback", Value: "no earlier deployment that did not fail verification: it stays active"})
	} else {
		m.Facts = append(m.Facts, notify.Fact{Name: "Now serving", Value: fmt.Sprintf("%s (deployment %d)", o.Restored.Name(), o.Restored.ID)})
	}
	for _, d := range o.Domains {
		m.Links = append(m.Links, notify.Link{Title: d, URL: "https://" + d + "/"})
	}
	return m
}

// announceRollback tells the project's channels of a rollback someone
// asked for (phoenix rollback; the automatic one sends its own critical
// alert): deploy.rolled_back, a warning, saying who rolled back from
// which release to which.
func (a *App) announceRollback(r deploy.ManualRollback) {
	name := func(d deploy.Deployment) string {
		if d.Release != "" {
			return fmt.Sprintf("%s (deployment %d)", d.Release, d.ID)
		}
		return fmt.Sprintf("deployment %d", d.ID)
	}
	m := notify.Message{ID: fmt.Sprintf("deploy-%d-rolled-back-to-%d-%d", r.From.ID, r.To.ID, r.At.UnixNano()),
		Event: "deploy.rolled_back", Severity: notify.Warning, Project: r.Project, Environment: r.Environment,
		Title: fmt.Sprintf("%s %s rolled back to %s by %s", r.Project, r.Environment, name(r.To), r.Actor),
		Text:  fmt.Sprintf("%s rolled %s back from %s to %s.", r.Actor, r.Environment, name(r.From), name(r.To)),
		Facts: []notify.Fact{{Name: "From", Value: name(r.From)}, {Name: "To", Value: name(r.To)}, {Name: "By", Value: r.Actor}},
		Time:  r.At}
	if _, err := a.publisher().Publish(context.Background(), m); err != nil {
		a.log.Error("notify: cannot queue the announcement of a rollback", "project", r.Project, "env", r.Environment, "err", err)
	}
}
