package secret

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tokens below are put together at run time from a split prefix and
// generated characters, so that no scanner (this project's, a code host's
// push protection) takes this file for a leak.

const (
	digits   = "0123456789"
	urlsafe  = alnum + "_-"
	lowerHex = hexd
	base36   = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// providerCase is one provider rule: texts holding one of its secrets
// each, and near misses no rule reports.
type providerCase struct {
	rule, severity string
	hits           [][2]string // {secret, text}
	misses         []string
}

func providerCases() []providerCase {
	// a generator of its own: drawing from the shared rng would change the
	// values of the tests that run after this one
	r := rand.New(rand.NewPCG(5, 8))
	randFrom := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	stripeLive := "sk" + "_live_" + randFrom(alnum, 24)
	stripeRestricted := "rk" + "_live_" + "51" + randFrom(alnum, 97)
	stripeTest := "sk" + "_test_" + randFrom(alnum, 24)
	stripeRTest := "rk" + "_test_" + randFrom(alnum, 99)
	google := "AI" + "za" + "Sy" + randFrom(urlsafe, 33)
	gitlab := "gl" + "pat-" + randFrom(urlsafe, 20)
	gitlabRoutable := "gl" + "pat-" + randFrom(urlsafe, 27) + "." + randFrom(base36, 9)
	sendgrid := "S" + "G." + randFrom(urlsafe, 22) + "." + randFrom(urlsafe, 43)
	openaiProj := "sk" + "-proj-" + randFrom(urlsafe, 74) + "T3Blbk" + "FJ" + randFrom(urlsafe, 74)
	openaiSvc := "sk" + "-svcacct-" + randFrom(urlsafe, 58) + "T3Blbk" + "FJ" + randFrom(urlsafe, 58)
	openaiOld := "sk" + "-" + randFrom(alnum, 20) + "T3Blbk" + "FJ" + randFrom(alnum, 20)
	anthropic := "sk" + "-ant-api03-" + randFrom(urlsafe, 93) + "AA"
	anthropicAdmin := "sk" + "-ant-admin01-" + randFrom(urlsafe, 93) + "AA"
	docker := "dckr" + "_pat_" + randFrom(urlsafe, 27)
	pypi := "py" + "pi-AgEIcHlwaS5vcmc" + randFrom(urlsafe, 160)
	vault := "hv" + "s." + randFrom(alnum, 24)
	vaultLong := "hv" + "s.CAESI" + randFrom(urlsafe, 90)
	do := "do" + "p_v1_" + randFrom(lowerHex, 64)
	shopify := "sh" + "pat_" + randFrom(lowerHex, 32)
	shopifySecret := "sh" + "pss_" + randFrom(lowerHex, 32)
	slackApp := "xa" + "pp-1-A" + randFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "-" + randFrom(digits, 13) + "-" + randFrom(lowerHex, 64)
	discord := "https://discord.com/api/" + "webhooks/" + "1" + randFrom(digits, 18) + "/" + randFrom(urlsafe, 68)
	discordApp := "https://discordapp.com/api/v10/" + "webhooks/" + "9" + randFrom(digits, 17) + "/" + randFrom(urlsafe, 68)
	twilio := "S" + "K" + randFrom(lowerHex, 32)
	testPyPI := "py" + "pi-AgENdGVzdC5weXBpLm9yZw" + randFrom(urlsafe, 160)
	vaultBatch := "hv" + "b.AAAAAQ" + randFrom(urlsafe, 190)
	vaultBatchShort := "hv" + "b." + randFrom(alnum, 24)
	vaultRecovery := "hv" + "r." + randFrom(alnum, 24)
	vaultLegacy := "s" + "." + randFrom(alnum, 11) + "7" + randFrom(alnum, 12)
	dockerOrg := "dckr" + "_oat_" + randFrom(urlsafe, 32)
	gitlabDeploy := "gl" + "dt-" + randFrom(urlsafe, 20)
	gitlabRunner := "gl" + "rt-" + randFrom(urlsafe, 20)
	gitlabRunnerRoutable := "gl" + "rt-t1_" + randFrom(urlsafe, 27) + "." + randFrom(base36, 9)
	gitlabTrigger := "gl" + "ptt-" + randFrom(lowerHex, 40)
	gitlabAgent := "gl" + "agent-" + randFrom(urlsafe, 50)
	gitlabSCIM := "gl" + "soat-" + randFrom(urlsafe, 20)
	gitlabOAuth := "gl" + "oas-" + randFrom(urlsafe, 64)
	gitlabJob := "gl" + "cbt-64_" + randFrom(urlsafe, 20)
	gitlabFeed := "gl" + "ft-" + randFrom(urlsafe, 20)
	gitlabMail := "gl" + "imt-" + randFrom(urlsafe, 25)
	gitlabFlags := "gl" + "ffct-" + randFrom(urlsafe, 20)
	gitlabWorkspace := "gl" + "wt-" + randFrom(urlsafe, 40) + "." + randFrom(base36, 9)
	gitlabWorkspacePlain := "gl" + "wt-" + randFrom(urlsafe, 20)
	gitlabRunnerReg := "GR" + "1348941" + randFrom(urlsafe, 20)
	vaultLegacyBatch := "b" + ".AAAAAQ" + randFrom(urlsafe, 150)
	vaultLegacyRecovery := "r" + "." + randFrom(alnum, 11) + "4" + randFrom(alnum, 12)
	return []providerCase{
		{"stripe-secret-key", "critical", [][2]string{
			{stripeLive, `const stripe = require("stripe")("` + stripeLive + `");`},
			{stripeRestricted, "STRIPE_SECRET_KEY=" + stripeRestricted},
		}, []string{
			"pk" + "_live_" + randFrom(alnum, 24),                             // a publishable key: public
			`const stripeKey = "pk` + "_live_51" + randFrom(alnum, 97) + `";`, // nor by a generic rule
			"sk" + "_live_" + randFrom(alnum, 20),                             // too short
			"Rotate the sk" + "_live_ keys every quarter; rk" + "_live_ ones too.",
			"task" + "_live_" + randFrom(alnum, 24), // inside a word
		}},
		{"stripe-test-key", "moderate", [][2]string{
			{stripeTest, "Stripe.api_key = '" + stripeTest + "'"},
			{stripeRTest, `"stripeKey": "` + stripeRTest + `"`},
		}, []string{
			"sk" + "_test_" + randFrom(alnum, 12),
			"sk" + "_tests_" + randFrom(alnum, 24),
			"use an sk" + "_test_ key in development",
		}},
		{"google-api-key", "high", [][2]string{
			{google, `<script src="https://maps.googleapis.com/maps/api/js?key=` + google + `&callback=init"></script>`},
		}, []string{
			"AI" + "za" + randFrom(alnum, 34),       // too short
			"AI" + "za" + randFrom(alnum, 36),       // too long
			"AI" + "ZA" + randFrom(alnum, 35),       // wrong case
			"Google API keys start with AI" + "za.", // prose
		}},
		{"gitlab-token", "critical", [][2]string{
			{gitlab, "git clone https://oauth2:" + gitlab + "@gitlab.example.com/group/app.git"},
			{gitlabRoutable, "GITLAB_TOKEN: " + gitlabRoutable},
		}, []string{
			"gl" + "pat-" + randFrom(alnum, 12),
			"gl" + "pta-" + randFrom(alnum, 20),
			"create a gl" + "pat- token with the api scope",
		}},
		{"sendgrid-api-key", "critical", [][2]string{
			{sendgrid, "sgMail.setApiKey('" + sendgrid + "');"},
		}, []string{
			"S" + "G." + randFrom(alnum, 22) + "." + randFrom(alnum, 30),
			"S" + "G-" + randFrom(alnum, 22) + "." + randFrom(alnum, 43),
			"msg.send(msg.body); SG.setApiKey(process.env.SENDGRID_API_KEY)",
		}},
		{"openai-api-key", "critical", [][2]string{
			{openaiProj, "OPENAI_API_KEY=" + openaiProj},
			{openaiSvc, `client = OpenAI(api_key="` + openaiSvc + `")`},
			{openaiOld, "openai.api_key = '" + openaiOld + "'"},
		}, []string{
			"sk" + "-" + randFrom(alnum, 48), // sk- alone
			"sk" + "-proj-" + randFrom(alnum, 10),
			"keys look like sk" + "-proj-… or sk" + "-svcacct-…",
			"sk" + "-" + randFrom(alnum, 20) + "T3Blbk" + "FJ" + randFrom(alnum, 12),
		}},
		{"anthropic-api-key", "critical", [][2]string{
			{anthropic, "ANTHROPIC_API_KEY=" + anthropic},
			{anthropicAdmin, `headers: {"x-api-key": "` + anthropicAdmin + `"}`},
		}, []string{
			"sk" + "-ant-api03-" + randFrom(alnum, 50) + "AA", // too short
			"sk" + "-ant-api03-" + randFrom(alnum, 93) + "BB", // wrong end
			"an sk" + "-ant-api03- key from the console",
		}},
		{"docker-hub-token", "critical", [][2]string{
			{docker, "echo " + docker + " | docker login -u phoenixci --password-stdin"},
			{dockerOrg, "echo " + dockerOrg + " | docker login -u phoenixorg --password-stdin"},
		}, []string{
			"dckr" + "_pat_" + randFrom(alnum, 10),
			"dckr" + "_pot_" + randFrom(alnum, 27),
			"a token starting with dckr" + "_pat_ from Account settings",
			"dckr" + "_oat_" + randFrom(alnum, 10),
			"an organization access token (dckr" + "_oat_…) logs in as the organization",
		}},
		{"pypi-token", "critical", [][2]string{
			{pypi, "password = " + pypi},
		}, []string{
			"py" + "pi-AgEIcHlwaS5vcmc" + randFrom(alnum, 20),
			"py" + "pi-AgENdGVzdC5weXBpLm9yZx" + randFrom(alnum, 160), // neither pypi.org's nor TestPyPI's
			"the token is prefixed with py" + "pi-",
		}},
		{"vault-service-token", "critical", [][2]string{
			{vault, "export VAULT_TOKEN=" + vault},
			{vaultLong, `-vaultToken ` + vaultLong + `"`},
		}, []string{
			"hv" + "s." + randFrom(alnum, 10),
			"hv" + "x." + randFrom(alnum, 24),
			"an hv" + "s. token is a service token",
		}},
		{"digitalocean-token", "critical", [][2]string{
			{do, `provider "digitalocean" { token = "` + do + `" }`},
		}, []string{
			"do" + "p_v1_" + randFrom(lowerHex, 63),
			"do" + "p_v2_" + randFrom(lowerHex, 64),
			"do" + "p_v1_" + randFrom(lowerHex, 65), // too long
		}},
		{"shopify-token", "critical", [][2]string{
			{shopify, "X-Shopify-Access-Token: " + shopify},
			{shopifySecret, "SHOPIFY_API_SECRET=" + shopifySecret},
		}, []string{
			"sh" + "pat_" + randFrom(lowerHex, 31),
			"sh" + "pxx_" + randFrom(lowerHex, 32),
			"sh" + "pat_" + randFrom(alnum[:26], 32), // not hex
		}},
		{"slack-app-token", "high", [][2]string{
			{slackApp, "SLACK_APP_TOKEN=" + slackApp},
		}, []string{
			"xa" + "pp-1-short",
			"xa" + "pp-1-A" + randFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10) + "-" + randFrom(lowerHex, 32),
			"Socket Mode needs an xa" + "pp- token",
		}},
		{"discord-webhook", "high", [][2]string{
			{discord, "DISCORD_WEBHOOK=" + discord},
			{discordApp, `requests.post("` + discordApp + `", json=payload)`},
		}, []string{
			"https://discord.com/api/" + "webhooks/" + randFrom(digits, 18) + "/",
			"https://discord.com/api/" + "webhooks/" + randFrom(digits, 18) + "/" + randFrom(alnum, 20),
			"POST https://discord.com/api/" + "webhooks/{webhook.id}/{webhook.token}",
		}},
		{"twilio-api-key", "high", [][2]string{
			{twilio, "TWILIO_API_KEY=" + twilio},
			{twilio, `const client = twilio("` + twilio + `", process.env.TWILIO_API_SECRET, { accountSid });`},
			// a name that says twilio is on the line, so the key is found
			{twilio, "export TWILIO_API_KEY_SID=\"" + twilio + "\""},
			{twilio, "twilioApiKey: " + twilio},
		}, []string{
			"S" + "K" + randFrom(lowerHex, 32), // no twilio on the line
			"api_sid: S" + "K" + randFrom(lowerHex, 32),
			"twilio key: S" + "K" + randFrom(lowerHex, 31),
			"twilio sku: AS" + "K" + randFrom(lowerHex, 32),
		}},
		{"testpypi-token", "moderate", [][2]string{
			{testPyPI, "twine upload --repository testpypi -u __token__ -p " + testPyPI + " dist/*"},
			{testPyPI, "[testpypi]\n  username = __token__\n  password = " + testPyPI},
		}, []string{
			"py" + "pi-AgENdGVzdC5weXBpLm9yZw" + randFrom(alnum, 20), // too short
			"TestPyPI tokens start with py" + "pi-AgENdGVzdC5weXBpLm9yZw, not pypi-AgEIcHlwaS5vcmc",
		}},
		{"vault-batch-token", "critical", [][2]string{
			{vaultBatch, "export VAULT_TOKEN=" + vaultBatch},
			{vaultBatchShort, `{"client_token": "` + vaultBatchShort + `", "orphan": true}`},
		}, []string{
			"hv" + "b." + randFrom(alnum, 10),
			"a batch token starts with hv" + "b. and cannot be renewed",
		}},
		{"vault-recovery-token", "critical", [][2]string{
			{vaultRecovery, `curl -H "X-Vault-Token: ` + vaultRecovery + `" http://127.0.0.1:8200/v1/sys/raw/logical`},
		}, []string{
			"hv" + "r." + randFrom(alnum, 23), // too short
			"hv" + "r." + randFrom(alnum, 25), // too long
			"recovery tokens (hv" + "r.) exist only in recovery mode",
		}},
		{"vault-legacy-token", "critical", [][2]string{
			{vaultLegacy, "export VAULT_TOKEN=" + vaultLegacy},
			{vaultLegacy, "vault login " + vaultLegacy},
		}, []string{
			"client.auth(" + vaultLegacy + ")",                                                                               // no vault on the line
			"vaultToken := s.makeKubeConfigController(args)",                                                                 // letters only: an identifier
			"vaultToken := s.vaultClientConfiguration.Token",                                                                 // so
			"vault login s." + randFrom(alnum, 11) + "7" + randFrom(alnum, 11),                                               // 23 characters
			`curl -H "X-Vault-Token: s.` + randFrom(alnum, 11) + "7" + randFrom(alnum, 13) + `" "$VAULT_ADDR/v1/sys/health"`, // 25 characters
			"vault.auth(" + vaultLegacy + ")",                                                                                // vault, but no token's name
			"VAULT_TOKEN=s.xxxxxxxxxxxxxxxxxxxxxxxx",
		}},
		{"gitlab-service-token", "critical", [][2]string{
			{gitlabDeploy, "docker login -u gitlab+deploy-token-7 -p " + gitlabDeploy + " registry.gitlab.com"},
			{gitlabRunner, `  token = "` + gitlabRunner + `"`},
			{gitlabRunnerRoutable, "gitlab-runner register --url https://gitlab.com --token " + gitlabRunnerRoutable},
			{gitlabTrigger, "curl -X POST --form token=" + gitlabTrigger + " --form ref=main https://gitlab.example.com/api/v4/projects/42/trigger/pipeline"},
			{gitlabAgent, "helm upgrade --install gitlab-agent gitlab/gitlab-agent --set config.token=" + gitlabAgent},
			{gitlabSCIM, "Authorization: Bearer " + gitlabSCIM},
			{gitlabOAuth, "GITLAB_OAUTH_SECRET=" + gitlabOAuth},
		}, []string{
			"gl" + "dt-" + randFrom(alnum, 12),       // too short
			"gl" + "agent-" + randFrom(alnum, 30),    // too short for an agent token
			"gl" + "oas-" + randFrom(alnum, 40),      // and for an OAuth secret
			"gl" + "ptt-" + randFrom(lowerHex, 39),   // too short
			"gl" + "ptt-" + randFrom(alnum[:26], 40), // not hex
			"gl" + "xyz-" + randFrom(urlsafe, 20),    // no such prefix
			"Clusters::AgentToken.find_by_token('gl" + "agent-xxx').revoke!",
			"a runner token (gl" + "rt-…) goes in config.toml, a deploy token (gl" + "dt-…) in docker login",
		}},
		{"gitlab-limited-token", "high", [][2]string{
			{gitlabJob, `curl --header "JOB-TOKEN: ` + gitlabJob + `" https://gitlab.example.com/api/v4/projects/42/packages`},
			{gitlabFeed, "https://gitlab.example.com/dashboard/issues.atom?feed_token=" + gitlabFeed + "&state=opened"},
			{gitlabMail, "incoming+phoenix-app-42-" + gitlabMail + "-issue@incoming.gitlab.com"},
			{gitlabFlags, `unleash: { url: "https://gitlab.example.com/api/v4/feature_flags/unleash/42", instanceId: "` + gitlabFlags + `" }`},
		}, []string{
			"gl" + "cbt-" + randFrom(alnum, 20), // no partition part
			"gl" + "ft-" + randFrom(alnum, 10),
			"gl" + "imt-" + randFrom(alnum, 20), // an incoming e-mail token has 25
			"the feed token (gl" + "ft-) is in the RSS link",
		}},
		{"gitlab-workspace-token", "critical", [][2]string{
			{gitlabWorkspace, "GITLAB_WORKSPACE_TOKEN=" + gitlabWorkspace},
			{gitlabWorkspacePlain, `{"workspace_token": "` + gitlabWorkspacePlain + `"}`},
		}, []string{
			"gl" + "wt-" + randFrom(alnum, 12), // too short
			"gl" + "wx-" + randFrom(urlsafe, 40),
			"my" + "gl" + "wt-" + randFrom(urlsafe, 40), // inside a word
			"each workspace gets a gl" + "wt- token while it runs",
		}},
		{"gitlab-runner-registration-token", "critical", [][2]string{
			{gitlabRunnerReg, "gitlab-runner register --url https://gitlab.com --registration-token " + gitlabRunnerReg},
			{gitlabRunnerReg, `runnerRegistrationToken: "` + gitlabRunnerReg + `"`},
		}, []string{
			"GR" + "1348941" + randFrom(alnum, 19), // too short
			"GR" + "1348941" + randFrom(alnum, 21), // too long
			"GR" + "134894112312312312312312312",   // a run of digits
			"GR" + "1348941XXXXXXXXXXXXXXXXXXXX",
			"registration tokens start with GR" + "1348941 and are deprecated",
		}},
		{"vault-legacy-batch-token", "critical", [][2]string{
			{vaultLegacyBatch, "export VAULT_TOKEN=" + vaultLegacyBatch},
			{vaultLegacyBatch, `curl -H "X-Vault-Token: ` + vaultLegacyBatch + `" "$VAULT_ADDR/v1/secret/data/app"`},
		}, []string{
			"client.auth(" + vaultLegacyBatch + ")",                             // no Vault token named on the line
			"vault.read(" + vaultLegacyBatch + ")",                              // vault, but no token's name
			"const vaultToken = b.render({ token: t, masked: true });",          // a call
			"vaultToken := b.AAAAbuildTokenFromTheSessionCookieAndHeaders(req)", // too short
			"vault login b." + randFrom(urlsafe, 150),                           // not a sealed entry's start
			"vault login b.AAAAAQ" + randFrom(urlsafe, 70),                      // too short
			"vault login b." + "AAAAAQ" + strings.Repeat("AbC9", 30),            // a repeated run: too little entropy
		}},
		{"vault-legacy-recovery-token", "critical", [][2]string{
			{vaultLegacyRecovery, `curl -H "X-Vault-Token: ` + vaultLegacyRecovery + `" http://127.0.0.1:8200/v1/sys/raw/logical`},
			{vaultLegacyRecovery, "vault login " + vaultLegacyRecovery},
		}, []string{
			"client.auth(" + vaultLegacyRecovery + ")",                         // no Vault token named on the line
			"vaultToken := r.getVaultTokenFromHeaders(req)",                    // letters only: an identifier
			"vaultToken := r.render(view)",                                     // a call
			"vault login r." + randFrom(alnum, 11) + "4" + randFrom(alnum, 11), // 23 characters
			"vault login r." + randFrom(alnum, 11) + "4" + randFrom(alnum, 13), // 25 characters
			"VAULT_TOKEN=r.xxxxxxxxxxxxxxxxxxxxxxxx",
		}},
	}
}

// TestProviderRules: each provider's token is reported once, by its own
// rule (over a generic one on the same value) with the rule's severity,
// whatever surrounds it; near misses (a wrong or bare prefix, a value too
// short or too long, the prefix in prose) are not reported at all.
func TestProviderRules(t *testing.T) {
	for _, tc := range providerCases() {
		t.Run(tc.rule, func(t *testing.T) {
			for _, h := range tc.hits {
				secret, text := h[0], h[1]
				ms := (&scanner{rs: DefaultRules()}).scanNamed("app.env", []byte(text))
				if len(ms) != 1 || ms[0].Rule.ID != tc.rule || ms[0].Rule.Severity != tc.severity || text[ms[0].start:ms[0].end] != secret {
					t.Errorf("%q: %s, want one %s (%s) of the whole token", text, describe(text, ms), tc.rule, tc.severity)
				}
			}
			for _, text := range tc.misses {
				for _, name := range []string{"app.js", "app.env"} {
					if ms := (&scanner{rs: DefaultRules()}).scanNamed(name, []byte(text)); len(ms) > 0 {
						t.Errorf("%s %q: %s, want none", name, text, describe(text, ms))
					}
				}
			}
		})
	}
}

// describe lists matches as rule severity "secret", for a failing test.
func describe(text string, ms []Match) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.Rule.ID+" "+m.Rule.Severity+" "+text[m.start:m.end])
	}
	if parts == nil {
		return "no finding"
	}
	return strings.Join(parts, ", ")
}

// TestProviderRulesDocumented: every built-in rule is named in the
// Secrets section of docs/security-gates.md, so a new one is documented.
func TestProviderRulesDocumented(t *testing.T) {
	data, err := os.ReadFile("../../../docs/security-gates.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, "## Secrets")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("no Secrets section in docs/security-gates.md")
	}
	section := doc[start : start+1+end]
	for _, r := range DefaultRules().Rules {
		if !strings.Contains(section, "`"+r.ID+"`") {
			t.Errorf("rule %s is not named in the Secrets section of docs/security-gates.md", r.ID)
		}
	}
}

// TestProviderRulesKeepOldAllowlistEntries: a provider's token that the
// generic rules reported before its own rule existed is now its rule's
// finding, and an allowlist entry written for the generic finding still
// silences it.
func TestProviderRulesKeepOldAllowlistEntries(t *testing.T) {
	dir := t.TempDir()
	key := "sk" + "_live_" + "51Qm7xK2vR9pLt4Wz8cN3hJ6" // split: no key-shaped literal
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("STRIPE_SECRET_KEY="+key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, dir, Options{})
	if len(r.Findings) != 1 || r.Findings[0].RuleID != "stripe-secret-key" || r.Findings[0].Severity != "critical" {
		t.Fatalf("findings %+v, want one critical stripe-secret-key", r.Findings)
	}
	old := Allowed{Rule: "generic-secret-assignment", Fingerprint: Fingerprint("generic-secret-assignment", []byte(key)), Reason: "revoked"}
	if r := runIn(t, dir, Options{Allow: []Allowed{old}}); len(r.Findings) != 0 || r.Stats["allowlisted"] != 1 {
		t.Errorf("with the generic finding's entry: findings %+v, stats %v", r.Findings, r.Stats)
	}
}

// TestWordKeywordRulesReadAroundTheWord: a rule whose keyword is a word
// rather than a token's prefix (twilio, vault_token) reads a long line (a
// minified bundle) only around the word: a key next to it is found, one
// farther away than its reach is not. Reading the whole line at each
// occurrence made a bundle of a Twilio client, which says twilio every
// few hundred bytes, scan at 26 MiB/s (217 with reach 64).
func TestWordKeywordRulesReadAroundTheWord(t *testing.T) {
	twilio := "S" + "K" + strings.Repeat("9f8e7d6c", 4)
	vault := "s" + "." + "Qm7xK2vR9pLt4Wz8cN3hJ6aB"
	recovery := "r" + "." + "Qm7xK2vR9pLt4Wz8cN3hJ6aB"
	batch := "b" + ".AAAAAQ" + strings.Repeat("Qm7xK2vR9pLt4Wz8cN3hJ6aB-_", 11) + "Xy3_Zw8-" // the longest, 302 characters
	filler := strings.Repeat("a=b+c;", 200)
	for _, tc := range []struct{ rule, near, far string }{
		{"twilio-api-key", `twilio("` + twilio + `",e)`, `twilio(e.sid,e.secret);` + filler + `k="` + twilio + `"`},
		{"vault-legacy-token", `headers["X-Vault-Token"]="` + vault + `"`, `headers["X-Vault-Token"]=t;` + filler + `t="` + vault + `"`},
		{"vault-legacy-recovery-token", `headers["X-Vault-Token"]="` + recovery + `"`, `headers["X-Vault-Token"]=t;` + filler + `t="` + recovery + `"`},
		{"vault-legacy-batch-token", `headers["X-Vault-Token"]="` + batch + `"`, `headers["X-Vault-Token"]=t;` + filler + `t="` + batch + `"`},
	} {
		near := filler + tc.near + filler
		if ms := (&scanner{rs: DefaultRules()}).scanNamed("app.min.js", []byte(near)); len(ms) != 1 || ms[0].Rule.ID != tc.rule {
			t.Errorf("%s next to its word on a long line: %s, want one", tc.rule, describe(near, ms))
		}
		far := filler + tc.far + filler
		if ms := (&scanner{rs: DefaultRules()}).scanNamed("app.min.js", []byte(far)); len(ms) != 0 {
			t.Errorf("%s 1200 bytes from its word on a long line: %s, want none", tc.rule, describe(far, ms))
		}
	}
}
