package config

import (
	"fmt"
	"strings"
	"time"

	_ "time/tzdata" // cron time zones work without system zoneinfo

	"github.com/robfig/cron/v3"
)

// Workflow is an automation: steps started by triggers.
type Workflow struct {
	Description string    `yaml:"description" doc:"What the workflow is for."`
	Triggers    []Trigger `yaml:"triggers" required:"true" doc:"What starts the workflow: cron, webhook or event."`
	Steps       []Step    `yaml:"steps" required:"true" doc:"Steps run in order unless needs says otherwise."`
	Timeout     Duration  `yaml:"timeout" doc:"Time limit for one run (default 30m)."`
	Concurrency string    `yaml:"concurrency" enum:"queue,skip,cancel" doc:"When a run is still going: queue the new one (default), skip it, or cancel the old one."`
	InPlace     bool      `yaml:"in_place" doc:"Run the steps in the project folder as it is (a workflow that updates it, e.g. git pull), not in a clean checkout of the commit (default false)."`
}

func (w *Workflow) setDefaults() {
	w.Timeout = Duration(30 * time.Minute)
	w.Concurrency = "queue"
}

// Trigger starts a workflow; exactly one of cron, webhook and event is set.
type Trigger struct {
	Cron        string          `yaml:"cron" doc:"Five-field cron schedule, e.g. \"*/2 * * * *\", or @hourly, @daily."`
	TZ          string          `yaml:"tz" doc:"IANA time zone for cron, e.g. Africa/Johannesburg (default UTC)."`
	Webhook     *WebhookTrigger `yaml:"webhook" doc:"Start on an authenticated HTTP POST to /hooks/<project>/<workflow>."`
	Event       string          `yaml:"event" doc:"Start on a Phoenix event, e.g. deploy.succeeded; prefix.* matches a family."`
	Environment string          `yaml:"environment" pattern:"slug" doc:"Only events from this environment."`
}

// WebhookTrigger authenticates incoming webhooks.
type WebhookTrigger struct {
	Auth   string    `yaml:"auth" required:"true" enum:"hmac,bearer" doc:"hmac: X-Phoenix-Signature sha256=<hex> over the body; bearer: Authorization: Bearer <secret>."`
	Secret SecretRef `yaml:"secret" required:"true" doc:"Shared secret as a reference, e.g. secret:DEPLOY_HOOK_SECRET; at least 16 characters (openssl rand -hex 32)."`
}

// MinWebhookSecret is the fewest characters a webhook trigger's secret
// may have: a shorter one could be guessed.
const MinWebhookSecret = 16

// WebhookSecretProblem says why value cannot be the secret of a webhook
// trigger written as ref, with a hint on making one; "" when it can. It
// never shows the value.
func WebhookSecretProblem(ref SecretRef, value string) (problem, hint string) {
	if len(value) >= MinWebhookSecret {
		return "", ""
	}
	what := "the webhook secret " + ref.String()
	hint = "make one with: openssl rand -hex 32"
	switch ref.Source {
	case "secret":
		hint = "store a new one with: openssl rand -hex 32 | phoenix secret set " + ref.Name
	case "env":
		hint = "set " + ref.Name + " to a new one, made with: openssl rand -hex 32"
	case "":
		what = "the webhook secret written in the file"
	}
	return fmt.Sprintf("%s is shorter than %d characters, so it could be guessed", what, MinWebhookSecret), hint
}

// Step is one unit of work in a workflow or pipeline stage: a shell command
// (run) or a built-in action (uses) with inputs (with).
type Step struct {
	Name            string         `yaml:"name" required:"true" pattern:"name" doc:"Step name, unique in its list; referenced by needs."`
	Run             string         `yaml:"run" doc:"Shell command(s)."`
	Uses            string         `yaml:"uses" oneof:"actions" doc:"Built-in action, e.g. notify, deploy, health-check, rollback, load-test, dns/update (docs/pipelines.md lists them)."`
	With            map[string]any `yaml:"with" doc:"Inputs of the action."`
	Needs           []string       `yaml:"needs" doc:"Steps that must finish first; without needs a step follows the previous one."`
	If              string         `yaml:"if" doc:"Condition to run, e.g. success(), failure(), always()."`
	Timeout         Duration       `yaml:"timeout" doc:"Time limit (default 10m)."`
	Retries         int            `yaml:"retries" min:"0" max:"10" doc:"Extra attempts after a failure."`
	Env             EnvMap         `yaml:"env" doc:"Environment variables."`
	Dir             string         `yaml:"dir" doc:"Working directory relative to the project root (default: the root)."`
	Secrets         []string       `yaml:"secrets" pattern:"envvar" doc:"Vault secrets exposed to the step as environment variables."`
	ContinueOnError bool           `yaml:"continue_on_error" doc:"A failure does not fail the run."`
}

func (s *Step) setDefaults() { s.Timeout = Duration(10 * time.Minute) }

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a cron expression of five fields (or six, with seconds
// first) or a descriptor (@daily) in time zone tz ("" for UTC).
func ParseCron(expr, tz string) (cron.Schedule, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "TZ=") {
		return nil, errTZPrefix
	}
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, err
		}
		expr = "CRON_TZ=" + tz + " " + expr
	}
	return cronParser.Parse(expr)
}

type constError string

func (e constError) Error() string { return string(e) }

const errTZPrefix = constError("put the time zone in tz, not in the expression")

func (c *Config) validateWorkflows(v *validator) {
	for _, name := range sortedKeys(c.Workflows) {
		w, p := c.Workflows[name], joinPath("workflows", name)
		if w == nil {
			continue
		}
		if len(w.Triggers) == 0 {
			v.errorf(p+".triggers", "add a cron, webhook or event trigger", "a workflow needs at least one trigger")
		}
		for i := range w.Triggers {
			w.Triggers[i].validate(v, indexPath(p+".triggers", i))
		}
		if len(w.Steps) == 0 {
			v.errorf(p+".steps", "add at least one step", "a workflow needs steps")
		}
		validateSteps(v, p+".steps", w.Steps, "", nil)
	}
}

func (t *Trigger) validate(v *validator, p string) {
	set := 0
	for _, b := range []bool{t.Cron != "", t.Webhook != nil, t.Event != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		v.errorf(p, "write one trigger per list item: cron, webhook or event", "a trigger needs exactly one of cron, webhook, event (has %d)", set)
	}
	if t.TZ != "" {
		if _, err := time.LoadLocation(t.TZ); err != nil || t.Cron == "" {
			v.errorf(p+".tz", "use an IANA zone name such as Africa/Johannesburg, with a cron schedule", "%q is not usable here", clip(t.TZ))
		}
	}
	if t.Cron != "" {
		if _, err := ParseCron(t.Cron, ""); err != nil {
			v.errorf(p+".cron", `five fields: minute hour day-of-month month day-of-week, e.g. "*/2 * * * *" (a sixth, leading field is seconds), or @daily`, "invalid schedule %q: %v", clip(t.Cron), err)
		}
	}
	if t.Event != "" && !validEventPattern(t.Event) {
		v.enum(p+".event", t.Event, Events)
	}
	if t.Environment != "" && t.Event == "" {
		v.errorf(p+".environment", "remove it, or add an event", "environment applies only to event triggers")
	}
	v.envRef(p+".environment", t.Environment)
	if t.Webhook != nil && t.Webhook.Secret.IsZero() {
		v.errorf(p+".webhook.secret", "write secret: secret:NAME", "a webhook trigger needs a secret")
	} else if t.Webhook != nil && t.Webhook.Secret.Source == "" {
		v.warnf(p+".webhook.secret", "store it with phoenix secret set NAME and write secret:NAME", "webhook secret is written in the file")
		if problem, hint := WebhookSecretProblem(t.Webhook.Secret, t.Webhook.Secret.Literal()); problem != "" {
			v.errorf(p+".webhook.secret", hint, "%s", problem)
		}
	}
	if t.Webhook != nil && t.Webhook.Auth == "" {
		v.errorf(p+".webhook.auth", "use hmac or bearer", "is required")
	}
}
