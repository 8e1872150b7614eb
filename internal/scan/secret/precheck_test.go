package secret

import (
	"strings"
	"testing"
)

// TestQuotedChecksKeepMatches: the quoted generic rules' cheap checks
// (mayMatch: an assignment of a quoted value long enough, to a name
// holding a keyword) skip a line only when the regular expression finds
// nothing there that could be reported. Lines of every assignment shape
// the rules take pass them (and FuzzScan holds the same on any text);
// lines the rules could only reject are skipped, which is what makes the
// scan fast.
func TestQuotedChecksKeepMatches(t *testing.T) {
	rs := DefaultRules()
	pass := []string{
		`password: "p@ss:w0rd!#"`, `PASSWORD='a$b c'`, `"Password": "x!y@z1"`, `DB_PASSWORD="p@ss#w0rd"`,
		`dbPassword: string = "Hq3!vZ8#kW2p"`, `dbPassword : string = 'Hq3!vZ8#kW2p'`, `'password' => 'Hq3!vZ8#'`,
		`pwd := "abc12!"`, `  value: "p@ss:w0rd!#"`, `"api_key" : "` + strings.Repeat("k9L2", 6) + `"`,
		`apiToken = "` + strings.Repeat("k9L2", 6) + `"`, `password = "ab\"cd12!"`, `x.password=` + "`Hq3!vZ8#kW2p`",
		`{"user": "app", "password": "Hq3!vZ8#kW2p"}`,
	}
	for _, line := range pass {
		for _, id := range []string{"generic-password", "generic-api-key"} {
			r := rs.byID(id)
			if r == nil {
				t.Fatalf("no rule %s", id)
			}
			if r2, m := skippedMatch(rs, []byte(line)); r2 != nil {
				t.Errorf("%s matches %q in %q, but its checks skip the line", r2.ID, line[m[0]:m[1]], line)
			}
		}
		if !rs.byID("generic-password").mayMatch([]byte(line)) && !rs.byID("generic-api-key").mayMatch([]byte(line)) {
			t.Errorf("%q: both quoted rules skip it", line)
		}
	}
	for _, line := range []string{
		`export default { name: 'checkout', data() { return { cart: [], password: '' }; } };`, // empty password
		`const token = await getAccessToken({ scopes: ['api://phoenix/.default'] });`,         // no quoted assignment
		`headers: { 'Content-Type': 'application/json' }, password: process.env.DB_PASSWORD`,  // name without a keyword
	} {
		if r := rs.byID("generic-password"); r.mayMatch([]byte(line)) {
			t.Errorf("%q: generic-password reads it, but can find nothing there", line)
		}
	}
}

// byID is the rule of rs with id, or nil.
func (rs *Ruleset) byID(id string) *Rule {
	for i := range rs.Rules {
		if rs.Rules[i].ID == id {
			return &rs.Rules[i]
		}
	}
	return nil
}
