package waf

import (
	"testing"
)

type panickyBody struct{}

func (panickyBody) Read([]byte) (int, error) { panic("broken body reader") }
func (panickyBody) Close() error             { return nil }

// TestInspectRecoversFromAPanic: a panic under Inspect (here from the body
// reader) does not take the edge down; Inspect reports waf-error, which
// blocks in block mode (fail closed) and is only reported in detect mode.
func TestInspectRecoversFromAPanic(t *testing.T) {
	var seen []any
	saved := onPanic
	onPanic = func(p any) { seen = append(seen, p) }
	t.Cleanup(func() { onPanic = saved })
	for mode, wantBlock := range map[string]bool{"block": true, "detect": false} {
		f := mustNew(t, Config{Mode: mode, Rules: []string{"owasp-core"}})
		r := request(t, "POST", "/api/cart", with(chromeHeaders, "Content-Type", "application/json"), "{}")
		r.Body = panickyBody{}
		if rule, block := f.Inspect(r, publicClient); rule != RuleError || block != wantBlock {
			t.Errorf("%s: Inspect = %q, %v; want %q, %v", mode, rule, block, RuleError, wantBlock)
		}
	}
	if len(seen) != 2 || seen[0] != "broken body reader" {
		t.Errorf("onPanic saw %v", seen)
	}
}
