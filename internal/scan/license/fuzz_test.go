package license

import "testing"

// FuzzEvaluate: any expression gives one of the three verdicts, no panic.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{"MIT", "(MIT OR GPL-3.0+) AND Apache-2.0 WITH LLVM-exception", "((((", "a AND b AND c OR d", "WITH", "LicenseRef-x"} {
		f.Add(s)
	}
	p := DefaultPolicy()
	f.Fuzz(func(t *testing.T, expr string) {
		v, _, _ := p.Evaluate(expr)
		if v != Allow && v != Review && v != Deny {
			t.Fatalf("verdict %q", v)
		}
	})
}
