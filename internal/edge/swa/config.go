package swa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
)

// FileName is the name of the config file at the root of a site.
const FileName = "staticwebapp.config.json"

// MaxConfigSize is the largest config file the cloud accepts (20 KB).
const MaxConfigSize = 20 * 1024

// MaxRoles is the number of distinct role names the cloud accepts.
const MaxRoles = 50

// Config is a parsed, validated staticwebapp.config.json, compiled for
// matching. It is immutable after Parse and safe for concurrent use. The
// zero Config behaves like Default().
type Config struct {
	routes    []route
	fallback  *fallback
	overrides [5]*override // indexed by overrideSlot
	mime      map[string]string
	trailing  trailingMode

	ipGate    bool
	ipRanges  []netip.Prefix
	fwdHosts  []string
	reqHeader []headerPair

	noRoute  headerSet // headers when no rule matched
	ready    bool      // finish ran; a zero Config is treated as Default()
	warnings []Problem
	rewrites []rewriteRef // targets MissingFiles looks up
}

type route struct {
	pat      pattern
	methods  uint16   // bit set of methodBit; 0 = every method
	roles    []string // nil = no check
	rewrite  string   // path part of the rewrite target
	rewriteQ string   // query part of the rewrite target, without '?'
	redirect string
	status   int
	hdr      headerSet
}

type fallback struct {
	rewrite string // target path
	file    string // file to look up for rewrite
	exclude []pattern
}

type override struct {
	rewrite  string
	redirect string
	status   int
}

type headerPair struct{ name, value string }

// headerSet holds the precomputed, read-only header maps for a rule.
type headerSet struct {
	ok    http.Header // static success: defaults, globalHeaders, route headers
	other http.Header // redirects: globalHeaders, route headers
	// fail is for errors and their overrides' redirects: other with
	// Cache-Control: no-store whatever the config says. A config's
	// Cache-Control is written for the content it serves; on those
	// answers it made caches keep them: the Vite example's "/assets/*"
	// immutable for a year on the 404 of an asset missing for a moment
	// (a replica behind, a CDN in front), a 401's redirect to the login
	// kept after signing in. (The edge answers /.auth/* with no-store.)
	fail    http.Header
	options http.Header // OPTIONS: ok plus Allow
	api     http.Header // API responses: route headers only
}

type trailingMode uint8

const (
	trailingDefault trailingMode = iota
	trailingAuto
	trailingAlways
	trailingNever
)

// overrideSlot maps an overridable status to its index in Config.overrides.
func overrideSlot(status int) int {
	switch status {
	case 400:
		return 1
	case 401:
		return 2
	case 403:
		return 3
	case 404:
		return 4
	}
	return 0
}

// Warnings lists accepted-but-suspicious findings (for example a redirect
// status the cloud does not document, or a route that cannot be matched).
func (c *Config) Warnings() []Problem { return c.warnings }

// Default returns the behaviour of a site with no config file (spec §13):
// directories serve index.html, a missing file is the platform 404 page.
func Default() *Config {
	c := &Config{}
	c.finish(nil, nil)
	return c
}

// Parse parses and validates the contents of a staticwebapp.config.json.
// filename is only used in messages. When the config is invalid, the error
// is a Problems listing every problem found.
func Parse(data []byte, filename string) (*Config, error) {
	v := &validator{file: filename, lines: newLineIndex(data)}
	if len(data) > MaxConfigSize {
		v.errAt(-1, "", fmt.Sprintf("the file is %d bytes; the cloud accepts at most %d (20 KB)", len(data), MaxConfigSize))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	root, off, err := parseTree(data)
	if err != nil {
		off, msg := jsonProblemAt(err, data, off, v.lines)
		v.errAt(off, "", msg)
		return nil, v.errs
	}
	c := v.config(root)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	c.warnings, c.rewrites = v.warns, v.rewrites
	return c, nil
}

// jsonProblemAt is jsonProblem, and where to point: a comma before a
// closing bracket or brace (the commonest slip, which JSON forbids and
// encoding/json reports as an invalid character at the closer) is named
// at the comma.
func jsonProblemAt(err error, data []byte, off int, lines lineIndex) (int, string) {
	if c, closer, ok := trailingComma(err, data, off); ok {
		return c, fmt.Sprintf("invalid JSON: a comma before the closing %c; JSON allows none there (remove it)", closer)
	}
	return off, jsonProblem(err, data, lines)
}

// trailingComma finds the comma before the closer that the syntax error
// err at off complains of ("invalid character ']' looking for beginning of
// value"); ok is false for any other error.
func trailingComma(err error, data []byte, off int) (comma int, closer byte, ok bool) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return 0, 0, false
	}
	// off is at the closer or just after it (encoding/json counts the
	// bytes read, the closer included).
	i := min(off, len(data)-1)
	if i > 0 && !isCloser(data[i]) {
		i--
	}
	if i < 0 || !isCloser(data[i]) {
		return 0, 0, false
	}
	before := bytes.TrimRight(data[:i], " \t\r\n") // JSON's white space
	if len(before) == 0 || before[len(before)-1] != ',' {
		return 0, 0, false
	}
	return len(before) - 1, data[i], true
}

func isCloser(b byte) bool { return b == ']' || b == '}' }

// jsonProblem says what is wrong with data that is not JSON, and for a
// file that ends too early, where the object or array left open starts.
func jsonProblem(err error, data []byte, lines lineIndex) string {
	var ue *errUnclosed
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "invalid JSON: the file is empty; it must hold one JSON object, at least {}"
	case errors.As(err, &ue):
		line, col := lines.pos(ue.off)
		return fmt.Sprintf("invalid JSON: %v (it opens at line %d, column %d; is the file cut short?)", ue, line, col)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the file ends before its value does (is the file cut short?)"
	}
	return "invalid JSON: " + err.Error()
}

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read swa config: %w", err)
	}
	if st.Size() > 4*MaxConfigSize {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("the file is %d bytes; the cloud accepts at most %d (20 KB)", st.Size(), MaxConfigSize)}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read swa config: %w", err)
	}
	return Parse(data, path)
}

// LoadDir loads dir/staticwebapp.config.json, or returns Default() when the
// folder has no config file.
func LoadDir(dir string) (*Config, error) {
	p := filepath.Join(dir, FileName)
	if _, err := os.Stat(p); os.IsNotExist(err) {
		return Default(), nil
	}
	return Load(p)
}
