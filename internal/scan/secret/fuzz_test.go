package secret

import "testing"

// FuzzParseRules: any rules file either fails with an error or gives a
// ruleset the scanner can run without panicking.
func FuzzParseRules(f *testing.F) {
	f.Add(defaultRules, []byte("aws key AKIA"))
	f.Add([]byte("rules:\n  - {id: x, regex: '(a+)b', keywords: [a], entropy: 1}\nallowlist:\n  regexes: ['^z']\n"), []byte("aaab\nab"))
	f.Fuzz(func(t *testing.T, rules, text []byte) {
		rs, err := ParseRules("f.yaml", rules)
		if err != nil {
			return
		}
		s := &scanner{rs: rs}
		for _, m := range s.scan(text) {
			if m.Line < 1 || len(m.Redacted) == 0 {
				t.Fatalf("bad match %+v", m)
			}
		}
	})
}

// FuzzScan: the default rules on arbitrary text never panic.
func FuzzScan(f *testing.F) {
	f.Add([]byte("token = \"abc123abc123abc123abc123\"\n-----BEGIN PRIVATE KEY-----"))
	rs := DefaultRules()
	f.Fuzz(func(t *testing.T, text []byte) {
		(&scanner{rs: rs}).scan(text)
	})
}
