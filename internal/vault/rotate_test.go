package vault

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type notes struct {
	mu       sync.Mutex
	events   []RotationEvent
	failures []RotationFailure // FailureNotifier
}

func (n *notes) SecretRotationFailed(_ context.Context, e RotationFailure) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failures = append(n.failures, e)
	return nil
}

func (n *notes) SecretRotated(_ context.Context, e RotationEvent) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, e)
	return nil
}

func TestRandomToken(t *testing.T) {
	tests := []struct {
		name     string
		length   int
		alphabet string
		want     string // every character must be in it
		wantErr  bool
	}{
		{"default", 0, "", alphabets["alnum"], false},
		{"hex preset", 64, "hex", "0123456789abcdef", false},
		{"literal", 16, "ab", "ab", false},
		{"too short", 4, "", "", true},
		{"too long", 5000, "", "", true},
		{"one character", 16, "aaaa", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := RandomToken(tt.length, tt.alphabet)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			want := max(tt.length, 32*boolInt(tt.length == 0))
			if len([]rune(s.Reveal())) != want {
				t.Fatalf("length %d, want %d", s.Len(), want)
			}
			for _, r := range s.Reveal() {
				if !strings.ContainsRune(tt.want, r) {
					t.Fatalf("character %q is outside the alphabet", r)
				}
			}
		})
	}
	a, _ := RandomToken(32, "")
	b, _ := RandomToken(32, "")
	if a.Equal(b) {
		t.Fatal("two random tokens are equal")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRotateWithRandomGenerator(t *testing.T) {
	n := &notes{}
	e := newEnv(t, func(o *Options) { o.Notifier = n })
	ctx := context.Background()
	e.set(t, "API_KEY", "initial")
	if _, err := e.v.Rotate(ctx, admin, "API_KEY"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("rotate without a policy: %v", err)
	}
	pol := &RotationPolicy{EveryDays: 30, ExpireAfterDays: 45, Generator: GeneratorSpec{Type: "random", Length: 40, Alphabet: "hex"}}
	if err := e.v.SetRotation(ctx, admin, "API_KEY", pol); err != nil {
		t.Fatal(err)
	}
	vi, err := e.v.Rotate(ctx, admin, "API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(t, "API_KEY", 0)
	if vi.Version != 2 || len(got) != 40 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Fatalf("rotated to version %d, value of %d characters", vi.Version, len(got))
	}
	if !vi.ExpiresAt.Equal(e.clock.Now().AddDate(0, 0, 45)) {
		t.Fatalf("expiry = %v", vi.ExpiresAt)
	}
	if len(n.events) != 1 || n.events[0].OldVersion != 1 || n.events[0].NewVersion != 2 || n.events[0].Reason != "manual" || n.events[0].Actor != "alice" {
		t.Fatalf("notifications = %+v", n.events)
	}
	if !e.audit.has("secret.rotate", OutcomeOK) {
		t.Fatal("rotation not audited")
	}
	in, _ := e.v.Describe(ctx, admin, "API_KEY")
	if !in.NextRotate.Equal(e.clock.Now().AddDate(0, 0, 30)) || in.Rotation.Generator.Length != 40 {
		t.Fatalf("next rotation = %v", in.NextRotate)
	}
}

func TestRotateDue(t *testing.T) {
	n := &notes{}
	e := newEnv(t, func(o *Options) { o.Notifier = n })
	ctx := context.Background()
	e.set(t, "EVERY_30", "aaaa")
	e.set(t, "NO_POLICY", "bbbb")
	exp := e.clock.Now().AddDate(0, 0, 20)
	if _, err := e.v.Set(ctx, admin, "BEFORE_EXPIRY", SecretString("cccc"), SetOptions{ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	random := GeneratorSpec{Type: "random"}
	e.v.SetRotation(ctx, admin, "EVERY_30", &RotationPolicy{EveryDays: 30, Generator: random})
	e.v.SetRotation(ctx, admin, "BEFORE_EXPIRY", &RotationPolicy{BeforeExpiryDays: 7, ExpireAfterDays: 20, Generator: random})
	steps := []struct {
		days int
		want []string
	}{
		{0, nil},
		{12, nil},
		{1, []string{"BEFORE_EXPIRY"}}, // day 13 = 7 days before expiry
		{1, nil},
		{11, nil},                      // day 25
		{1, []string{"BEFORE_EXPIRY"}}, // day 26: the day-13 version expires on day 33
		{4, []string{"EVERY_30"}},      // day 30
	}
	for i, s := range steps {
		e.clock.Add(time.Duration(s.days) * 24 * time.Hour)
		res, err := e.v.RotateDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range res {
			if r.Error != "" {
				t.Fatalf("step %d: %s: %s", i, r.Name, r.Error)
			}
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != strings.Join(s.want, ",") {
			t.Fatalf("step %d (day +%d): rotated %v, want %v", i, s.days, names, s.want)
		}
	}
	for _, ev := range n.events {
		if ev.Reason != "scheduled" || ev.Actor != "system" {
			t.Fatalf("event %+v", ev)
		}
	}
	e.v.Seal()
	if _, err := e.v.RotateDue(ctx); !errors.Is(err, ErrSealed) {
		t.Fatalf("RotateDue while sealed: %v", err)
	}
}

func TestRotateWithCommand(t *testing.T) {
	sh := testkit.RequireTool(t, "sh", "dash")
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "DB_PASSWORD", "old-value")
	cmd := []string{sh, "-c", `printf 'rotated-%s-%s\n' "$PHOENIX_SECRET_NAME" "$PHOENIX_SECRET_VERSION"`}
	e.v.SetRotation(ctx, admin, "DB_PASSWORD", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "command", Command: cmd}})
	if _, err := e.v.Rotate(ctx, admin, "DB_PASSWORD"); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "DB_PASSWORD", 0); got != "rotated-DB_PASSWORD-1" {
		t.Fatalf("value = %q", got)
	}
	// The hook does not see the master key the server may have been given.
	t.Setenv(MasterKeyEnv, testMaster)
	t.Setenv(MasterKeyEnv+"_FILE", "/etc/phoenix/master.key")
	noKey := newEnv(t)
	noKey.set(t, "API_TOKEN", "old-value")
	peek := []string{sh, "-c", `printf 'key=%s file=%s' "$PHOENIX_MASTER_KEY" "$PHOENIX_MASTER_KEY_FILE"`}
	noKey.v.SetRotation(ctx, admin, "API_TOKEN", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "command", Command: peek}})
	if _, err := noKey.v.Rotate(ctx, admin, "API_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if got := noKey.get(t, "API_TOKEN", 0); got != "key= file=" {
		t.Fatalf("the rotation command saw the master key: %q", got)
	}
	failing := []string{sh, "-c", `echo leaked-partial-value; echo oops >&2; exit 3`}
	e.v.SetRotation(ctx, admin, "DB_PASSWORD", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "command", Command: failing}})
	_, err := e.v.Rotate(ctx, admin, "DB_PASSWORD")
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "leaked-partial-value") || strings.Contains(err.Error(), "oops") {
		t.Fatalf("failing command: %v", err)
	}
	// The user's command failed: they see why (the API answered 500, "internal error").
	if k, hint := usererr.KindOf(err), usererr.HintOf(err); k != usererr.Failed || !strings.Contains(hint, "version 2 stays current") {
		t.Fatalf("failing command: kind %v, hint %q, want Failed and the current version", k, hint)
	}
	if got := e.get(t, "DB_PASSWORD", 0); got != "rotated-DB_PASSWORD-1" {
		t.Fatal("a failed rotation changed the value")
	}
}

type fixedGen string

func (f fixedGen) Generate(context.Context, GenerateRequest) (Secret, error) {
	return SecretString(string(f)), nil
}

func TestRegisteredGeneratorAndPolicyValidation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Generators = map[string]Generator{"workflow": fixedGen("from-workflow")} })
	ctx := context.Background()
	e.set(t, "X", "1111")
	if err := e.v.SetRotation(ctx, admin, "X", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "workflow", Workflow: "rotate-x"}}); err != nil {
		t.Fatal(err)
	}
	e.v.Rotate(ctx, admin, "X")
	if got := e.get(t, "X", 0); got != "from-workflow" {
		t.Fatalf("value = %q", got)
	}
	bad := map[string]RotationPolicy{
		"no schedule":       {Generator: GeneratorSpec{Type: "random"}},
		"no generator":      {EveryDays: 1},
		"unknown generator": {EveryDays: 1, Generator: GeneratorSpec{Type: "carrier-pigeon"}},
		"empty command":     {EveryDays: 1, Generator: GeneratorSpec{Type: "command"}},
		"short random":      {EveryDays: 1, Generator: GeneratorSpec{Type: "random", Length: 3}},
		"negative":          {EveryDays: -1, Generator: GeneratorSpec{Type: "random"}},
		"expiry order":      {BeforeExpiryDays: 9, ExpireAfterDays: 5, Generator: GeneratorSpec{Type: "random"}},
		// It rotated once, then never again: the new version had no expiry.
		"before expiry alone": {BeforeExpiryDays: 7, Generator: GeneratorSpec{Type: "random"}},
	}
	for name, p := range bad {
		t.Run(name, func(t *testing.T) {
			if err := e.v.SetRotation(ctx, admin, "X", &p); usererr.KindOf(err) != usererr.Invalid {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// 'phoenix secret rotate DB_PASSWORD --every 90 -- CMD' on a new name
	// said only "does not exist; see 'phoenix secret list'".
	err := e.v.SetRotation(ctx, admin, "DB_PASSWORD", &RotationPolicy{EveryDays: 90, Generator: GeneratorSpec{Type: "random"}})
	if usererr.KindOf(err) != usererr.NotFound || !strings.Contains(usererr.HintOf(err), "phoenix secret set DB_PASSWORD") {
		t.Fatalf("a policy for a secret that does not exist: %v (hint %q)", err, usererr.HintOf(err))
	}
	if err := e.v.SetRotation(ctx, admin, "X", nil); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.v.Describe(ctx, admin, "X"); in.Rotation != nil {
		t.Fatal("policy not cleared")
	}
}

// brokenGen fails while broken is set; with calls, it records there when
// it was asked (by clock).
type brokenGen struct {
	broken *bool
	calls  *[]time.Time
	clock  *clock
}

func (g brokenGen) Generate(context.Context, GenerateRequest) (Secret, error) {
	if g.calls != nil {
		*g.calls = append(*g.calls, g.clock.Now())
	}
	if *g.broken {
		return Secret{}, errors.New("the workflow is gone")
	}
	return SecretString("a fresh value from the workflow"), nil
}

// TestFailingScheduledRotationIsToldOnce: a scheduled rotation whose
// generator fails is retried (after a growing wait, see
// TestFailingScheduledRotationBacksOff), but audited
// (secret.rotate, failed) and told to the FailureNotifier once per streak
// of failures, not at every retry; once more, as critical, when the
// secret comes within a day of its expiry still failing. A successful
// rotation ends the streak: the next failure is told again.
func TestFailingScheduledRotationIsToldOnce(t *testing.T) {
	broken := true
	n := &notes{}
	e := newEnv(t, func(o *Options) {
		o.Notifier = n
		o.Generators = map[string]Generator{"workflow": brokenGen{broken: &broken}}
	})
	ctx := context.Background()
	expires := e.clock.Now().Add(5 * 24 * time.Hour)
	if _, err := e.v.Set(ctx, admin, "DB_PASSWORD", SecretString("initial value"), SetOptions{ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if err := e.v.SetRotation(ctx, admin, "DB_PASSWORD", &RotationPolicy{BeforeExpiryDays: 7, ExpireAfterDays: 30,
		Generator: GeneratorSpec{Type: "workflow"}}); err != nil {
		t.Fatal(err)
	}
	failedRecords := func() (out []AuditEvent) {
		for _, ev := range e.audit.all() {
			if ev.Action == "secret.rotate" && ev.Outcome == OutcomeFailed {
				out = append(out, ev)
			}
		}
		return out
	}
	tick := func(d time.Duration) {
		t.Helper()
		e.clock.Add(d)
		res, err := e.v.RotateDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := !broken; len(res) > 1 || len(res) == 1 && (res[0].Error == "") != want {
			t.Fatalf("RotateDue = %+v, want one rotation or none (waiting to retry), failed %v", res, broken)
		}
	}
	start := e.clock.Now()
	for range 5 { // a minute apart, as the server calls it
		tick(time.Minute)
	}
	told, recs := n.failures, failedRecords()
	if len(told) != 1 || told[0].Name != "DB_PASSWORD" || told[0].Version != 1 || told[0].Critical ||
		!told[0].Since.Equal(start.Add(time.Minute)) || !told[0].ExpiresAt.Equal(expires) ||
		!strings.Contains(told[0].Error, "the workflow is gone") {
		t.Fatalf("after five failures, told %+v; want once, not critical", told)
	}
	if len(recs) != 1 || recs[0].Actor != "system" || recs[0].Target != "secret/DB_PASSWORD" ||
		!strings.Contains(recs[0].Detail, "scheduled: rotate DB_PASSWORD: generator workflow failed: the workflow is gone") {
		t.Fatalf("after five failures, audited %+v; want one failed secret.rotate", recs)
	}
	// Four days on, the secret expires within a day: told once more, as critical.
	tick(4*24*time.Hour + time.Hour)
	tick(time.Minute)
	if told = n.failures; len(told) != 2 || !told[1].Critical || !told[1].Since.Equal(told[0].Since) {
		t.Fatalf("within a day of expiry, told %+v; want a second, critical notice of the same streak", told)
	}
	if recs = failedRecords(); len(recs) != 1 {
		t.Fatalf("within a day of expiry, audited %d failures, want still the one", len(recs))
	}
	// Fixed: the next rotation succeeds, and a later failure is a new streak.
	broken = false
	tick(time.Hour) // past the wait before the next try
	if len(n.events) != 1 || n.events[0].NewVersion != 2 {
		t.Fatalf("rotated: %+v", n.events)
	}
	broken = true
	tick(23 * 24 * time.Hour) // the new version (30 days) is due 7 days before it expires
	tick(time.Minute)
	if told, recs = n.failures, failedRecords(); len(told) != 3 || told[2].Critical || told[2].Version != 2 || len(recs) != 2 {
		t.Fatalf("a new streak: told %+v, audited %d; want a third notice and a second record", told, len(recs))
	}
}

// TestValuesTooShortToMaskAreRefused: a value shorter than a pipeline log
// can hide (MinValueLen) is refused when set, imported or made by a
// rotation, naming the minimum, not the value; a step could never use it.
func TestValuesTooShortToMaskAreRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, short := range []string{"", "a", "abc"} {
		_, err := e.v.Set(ctx, admin, "PIN", SecretString(short), SetOptions{})
		if usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "shorter than 4 characters") ||
			(short == "abc" && strings.Contains(err.Error(), short)) {
			t.Errorf("Set(%q): %v", short, err)
		}
	}
	if _, err := e.v.Describe(ctx, admin, "PIN"); err == nil {
		t.Error("a refused value created the secret")
	}
	e.set(t, "PIN", "abcd") // the minimum is fine

	entries, err := ParseDotenv(strings.NewReader("GOOD=long-enough\nSHORT=ab\nPLACEHOLDER=\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Import(ctx, admin, entries, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "line 2: secret SHORT: the value is shorter than 4") {
		t.Fatalf("import of a short value: %v", err)
	}
	if _, err := e.v.Describe(ctx, admin, "GOOD"); err == nil {
		t.Fatal("a refused import wrote a secret")
	}

	sh := testkit.RequireTool(t, "sh", "dash")
	e.v.SetRotation(ctx, admin, "PIN", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "command", Command: []string{sh, "-c", "printf 12"}}})
	if _, err := e.v.Rotate(ctx, admin, "PIN"); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("a rotation to a short value: %v", err)
	}
	if got := e.get(t, "PIN", 0); got != "abcd" {
		t.Fatalf("PIN = %q", got)
	}
}

// TestFailingScheduledRotationBacksOff: a scheduled rotation whose
// generator fails was tried again at every tick of the scheduler, a minute
// apart, for as long as it failed. It is tried again after 1, 2, 4, ...
// minutes, at most an hour apart; a restart keeps the wait (it is in the
// database), and a success ends it, so the next failure waits a minute.
func TestFailingScheduledRotationBacksOff(t *testing.T) {
	broken := true
	var calls []time.Time
	e := newEnv(t)
	gen := brokenGen{&broken, &calls, e.clock}
	mod := func(o *Options) { o.Generators = map[string]Generator{"workflow": gen} }
	e.v = e.open(t, mod)
	ctx := context.Background()
	if err := e.v.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	e.set(t, "DB_PASSWORD", "initial value")
	if err := e.v.SetRotation(ctx, admin, "DB_PASSWORD", &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "workflow"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour)
	start := e.clock.Now()
	run := func(minutes int) {
		t.Helper()
		for range minutes { // a tick a minute, as the server calls it
			res, err := e.v.RotateDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 1 && res[0].Error != "" && !res[0].RetryAt.After(e.clock.Now()) {
				t.Fatalf("a failed rotation without a later retry: %+v", res[0])
			}
			e.clock.Add(time.Minute)
		}
	}
	gaps := func() []time.Duration {
		var out []time.Duration
		for i := 1; i < len(calls); i++ {
			out = append(out, calls[i].Sub(calls[i-1]))
		}
		return out
	}
	run(4 * 60)
	want := []int{1, 2, 4, 8, 16, 32, 60, 60}
	got := gaps()
	if calls[0] != start || len(got) != len(want) {
		t.Fatalf("in 4 hours the generator was asked %d times, first at %v (first gaps %v); want first at %v, then gaps of %v minutes",
			len(calls), calls[0], got[:min(len(got), 10)], start, want)
	}
	for i := range want {
		if got[i] != time.Duration(want[i])*time.Minute {
			t.Fatalf("gaps between tries %v, want %v minutes", got, want)
		}
	}

	// A restart (another Vault on the same database) keeps the wait.
	last := calls[len(calls)-1]
	e.v = e.open(t, mod)
	if err := e.v.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	for e.clock.Now().Before(last.Add(time.Hour)) {
		run(1)
		if calls[len(calls)-1] != last {
			t.Fatalf("after a restart, tried at %v, %v after the last try; want an hour after it", e.clock.Now(), calls[len(calls)-1].Sub(last))
		}
	}
	broken = false
	run(1)
	if calls[len(calls)-1] != last.Add(time.Hour) {
		t.Fatalf("after a restart, the next try at %v, want %v", calls[len(calls)-1], last.Add(time.Hour))
	}
	// The success ended the wait: the next failure (a day on) waits a minute.
	broken = true
	n := len(calls)
	e.clock.Add(24 * time.Hour)
	run(3)
	if got := calls[n:]; len(got) != 2 || got[1].Sub(got[0]) != time.Minute {
		t.Fatalf("after a success, a new failure tried at %v; want twice, a minute apart", got)
	}
}
