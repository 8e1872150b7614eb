package secret

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

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

// FuzzScan: the default rules on arbitrary text, read as code or as a
// configuration file (where more rules apply), never panic, and a match
// is where the text is, redacted: its prefix valid UTF-8 when the text is,
// without the secret; so on a long line.
func FuzzScan(f *testing.F) {
	f.Add([]byte("token = \"abc123abc123abc123abc123\"\n-----BEGIN PRIVATE KEY-----"), false)
	f.Add([]byte("- name: DB_PASSWORD\n  value: \"p@ss:w0rd!#\"\nkey: db-password-v2\npassword: ${{ secrets.X }}\n"), true)
	f.Add([]byte("PASSWORD='a$b c'\nAPI_SECRET=\"k9#Lm2pQ!x7vR4tW8zY1\"\nspring.mail.password=Pr0d!Mail#Pass # mail\n"), true)
	f.Add([]byte(`{"Default": "Server=db;User ID=app;Password=Hq3!vZ8#kW2p;", "password": "pä\\"ss9!"}`), false)
	// the providers' prefixes, split so that this file holds no token
	f.Add([]byte("STRIPE_SECRET_KEY=sk"+"_live_"+strings.Repeat("a1B2c3", 5)+"\ntwilio S"+"K"+strings.Repeat("0f9e", 8)+
		" https://discord.com/api/webhooks/1/x AIza hvs. glpat- SG. xapp-1- sk-proj- sk-ant-api03- dckr_pat_ dop_v1_ shpat_"+
		"\nhvb. hvr. VAULT_TOKEN=s."+strings.Repeat("k3Q", 8)+" dckr_oat_ pypi-AgENdGVzdC5weXBpLm9yZw gldt- glrt- glrtr- glptt-"+
		" glagent- glsoat- gloas- glcbt-1_ glft- glimt- glffct- X-Vault-Token vaultToken vault login vault token"), true)
	rs := DefaultRules()
	f.Fuzz(func(t *testing.T, text []byte, config bool) {
		name := "app.js"
		if config {
			name = "values.yaml"
		}
		// also the same text over and over on one line past 4 KiB, read
		// in windows around keywords (Reach)
		long := bytes.Repeat(append(bytes.ReplaceAll(text, []byte("\n"), []byte(" ")), ' '), 4096/(len(text)+1)+1)
		for _, data := range [][]byte{text, long} {
			for _, m := range (&scanner{rs: rs}).scanNamed(name, data) {
				secret := string(data[m.start:m.end])
				if m.Line < 1 || m.Column < 1 || len(m.Redacted) == 0 || len(secret) >= 5 && strings.Contains(m.Redacted, secret) ||
					utf8.Valid(data) && !utf8.ValidString(m.Redacted) {
					t.Fatalf("bad match %+v of %q", m, secret)
				}
			}
		}
		for _, line := range bytes.Split(text, []byte("\n")) {
			if r, m := skippedMatch(rs, line); r != nil {
				t.Fatalf("%s matches %q in %q, but its checks skip the line", r.ID, line[m[0]:m[1]], line)
			}
		}
	})
}

// skippedMatch returns a rule of rs with cheap checks (mayMatch) and a
// match of its regular expression in line, with a secret of MinLength
// bytes or more (for a quoted rule, also a name holding one of its
// keywords: the only ones nameOK may take), when those checks skip line:
// a secret they would lose.
func skippedMatch(rs *Ruleset, line []byte) (*Rule, []int) {
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if !r.Quoted && r.MinRun == 0 && len(r.Needs) == 0 || r.mayMatch(line) {
			continue
		}
		for _, m := range r.re.FindAllSubmatchIndex(line, -1) {
			name, secret := group(m, r.nameGroups), group(m, r.secretGroups)
			if secret == nil || secret[1]-secret[0] < r.MinLength {
				continue
			}
			if !r.Quoted {
				return r, m // minRun and needs hold for any match
			}
			if name == nil {
				continue
			}
			for _, k := range r.Keywords {
				if hasFoldIn(line[name[0]:name[1]], k) {
					return r, m
				}
			}
		}
	}
	return nil, nil
}

// group is the span of the first of groups that matched in m, or nil.
func group(m, groups []int) []int {
	for _, g := range groups {
		if m[2*g] >= 0 {
			return m[2*g : 2*g+2]
		}
	}
	return nil
}
