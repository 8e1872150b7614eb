package monitor

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Undeliverable is a project's notification channel whose messages stop
// short of it, for the built-in UndeliverableRule: its last delivery
// failed for good (refused, or retried for a day) with nothing delivered
// since, or (Channel "") none of the project's channels loaded.
type Undeliverable struct {
	Project string // as phoenix.yaml names it
	Channel string // the channel's name in phoenix.yaml; "": the project's channels did not load
	Event   string // the last message that failed, and when
	At      time.Time
	Failed  int    // deliveries failed for good since the last success
	Error   string // why (the receiver's answer, or why the channels did not load), never a URL or a key
}

// UndeliverableRule is the built-in rule that fires while a channel's
// messages fail for good or a project's channels do not load. Its alerts
// are one per channel, notify-undeliverable@notify:shop/teams (one per
// project, notify-undeliverable@notify:shop, for channels not loaded);
// their messages go to the project's channels only (UndeliverableProject).
const UndeliverableRule = "notify-undeliverable"

// notifyPrefix marks the rule's instances: they are the server's (off the
// status page) but about one project.
const notifyPrefix = "notify:"

// UndeliverableInstance is the alert instance of project's channel, or of
// the project's channels as a whole when channel is "".
func UndeliverableInstance(project, channel string) string {
	if channel == "" {
		return notifyPrefix + project
	}
	return notifyPrefix + project + "/" + channel
}

// UndeliverableProject returns the project an UndeliverableRule instance
// is about, or "" for any other instance.
func UndeliverableProject(instance string) string {
	rest, ok := strings.CutPrefix(instance, notifyPrefix)
	if !ok {
		return ""
	}
	project, _, _ := strings.Cut(rest, "/")
	return project
}

// undeliverableMetric is the built-in rule's metric: the messages that
// failed for good since the channel's last success (1 for channels not
// loaded); 0 while the channel works.
const undeliverableMetric = "notify_undeliverable_messages"

// undeliverableRule returns the built-in rule: it fires at the first
// evaluation that sees a failure for good (retries have already had their
// patience), reminds every 4 hours and resolves when a message reaches
// the channel again, or its channels load.
func undeliverableRule() Rule {
	return Rule{Name: UndeliverableRule, Metric: undeliverableMetric, Threshold: 0, Op: ">", Severity: 1,
		FailureThreshold: 1, SuccessThreshold: 1}.withDefaults()
}

// undeliverableValues returns undeliverableMetric per channel and the
// summaries of those that fail; ok is false when the alert is off or the
// delivery log could not be read (the instances then keep their state).
func (m *Monitor) undeliverableValues(ctx context.Context) (values map[string]float64, details map[string]string, ok bool) {
	if m.opts.Undeliverable == nil {
		return nil, nil, false
	}
	us, err := m.opts.Undeliverable(ctx)
	if err != nil {
		m.logErr("undeliverable notifications", err)
		return nil, nil, false
	}
	values, details = map[string]float64{}, map[string]string{}
	for env := range m.instancesOf(UndeliverableRule) {
		values[env] = 0
	}
	for _, u := range us {
		k := UndeliverableInstance(u.Project, u.Channel)
		if u.Channel == "" {
			values[k], details[k] = 1, "the project's notification channels did not load: "+u.Error
			continue
		}
		values[k] = float64(max(u.Failed, 1))
		details[k] = fmt.Sprintf("%s not delivered, failed for good at %s (%d since the channel's last success): %s",
			u.Event, u.At.UTC().Format(time.RFC3339), max(u.Failed, 1), u.Error)
	}
	return values, details, true
}

// describeUndeliverable says what the rule saw when nothing fails.
func describeUndeliverable(v float64) string {
	if v <= 0 {
		return "the channel's messages are delivered"
	}
	return fmt.Sprintf("%v messages not delivered", v)
}
