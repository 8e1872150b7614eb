// Package archtest holds tests of the code base's own rules: every package
// has a doc comment, and imports point one way (cmd -> cli -> app -> domains
// -> store), so domains never reach up into app, cli, api or web.
package archtest
