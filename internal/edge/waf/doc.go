// Package waf is the edge's web application firewall: the phoenix.yaml
// edge.waf section (mode, rule sets, geo_allow/geo_deny) turned into a
// Firewall whose Inspect looks at one request and names the rule it matched.
//
// Three rule sets, all from the OWASP Core Rule Set (CRS) v4.25.0 as embedded
// by github.com/corazawaf/coraza-coreruleset:
//
//   - owasp-core: the CRS itself run by OWASP Coraza, with the CRS's
//     recommended setup (paranoia level 1, anomaly scoring, inbound threshold
//     5), request phases only; its scanner-detection group (913) belongs to
//     the scanners set;
//   - scanners: CRS rule 913100, a User-Agent naming a security scanner from
//     the CRS's scanners-user-agents.data;
//   - bad-bots: clients that do not say what they are, a missing or empty
//     User-Agent (the conditions of CRS rules 920320 and 920330).
//
// Geo rules look the client's country up in a MaxMind-format database
// (OpenGeoDB). Custom rules (edge.waf.custom_rules: conditions on the
// client address, method, path, query, headers and cookies; block, allow or
// log) run by priority before the rule sets, and edge.waf.exclude removes
// CRS rules from owasp-core (one compiled rule set per exclusion set). Mode
// detect reports what block mode would block and never blocks. docs/waf.md
// is the user's guide.
package waf
