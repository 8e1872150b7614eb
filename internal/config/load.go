package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest phoenix.yaml accepted.
const MaxFileSize = 1 << 20

// Load reads and parses the phoenix.yaml at path; see Parse.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// ReadFile reads the phoenix.yaml at path for Parse: a regular file (a
// named pipe or a device is refused, not waited on), at most MaxFileSize
// bytes and one more (Parse refuses that).
func ReadFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return data, nil
}

// ProjectName is project.name of a phoenix.yaml, read leniently (nothing
// else is decoded or checked); "" when data is no YAML or names no
// project. The server asks it to learn whose file it is before it says
// what is wrong with it.
func ProjectName(data []byte) (name string) {
	if len(data) > MaxFileSize {
		return ""
	}
	defer func() {
		if recover() != nil { // the YAML parser must not take the caller down
			name = ""
		}
	}()
	var doc struct {
		Project struct {
			Name string `yaml:"name"`
		} `yaml:"project"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return ""
	}
	return doc.Project.Name
}

// Parse decodes and validates a phoenix.yaml. filename is used in problems
// ("phoenix.yaml" when empty). Defaults are applied first; decoding is strict.
// On any error it returns nil and a Problems value holding every problem
// (warnings included); otherwise warnings are in Config.Warnings.
func Parse(data []byte, filename string) (*Config, error) {
	if filename == "" {
		filename = "phoenix.yaml"
	}
	root, probs := parseDocument(data, filename)
	if probs != nil {
		return nil, probs
	}
	c := Default()
	c.file = filename
	d := newDecoder(filename)
	d.pos[""] = Pos{root.Line, root.Column}
	if root.Kind != yaml.MappingNode {
		d.typeErr(root, "", "a mapping of sections such as project:, build:", "start from the output of phoenix init")
		return nil, d.probs
	}
	d.decode(root, reflect.ValueOf(c).Elem(), "")
	c.pos = d.pos
	all := d.probs
	var vp Problems
	if err := c.Validate(); err != nil {
		vp = err.(Problems)
	}
	for _, p := range vp {
		if !coveredBy(p.Field, d.probs) {
			all = append(all, p)
		}
	}
	all = all.sorted()
	if len(all.Errors()) > 0 {
		return nil, all
	}
	c.Warnings, c.src = all, bytes.Clone(data)
	return c, nil
}

// coveredBy reports whether a decode problem already concerns field or one
// of its ancestors, so validation of a half-decoded value is not reported.
func coveredBy(field string, decodeProbs Problems) bool {
	for _, p := range decodeProbs {
		if field == p.Field || strings.HasPrefix(field, p.Field+".") || strings.HasPrefix(field, p.Field+"[") {
			return true
		}
	}
	return false
}

// parseDocument parses data into its single document's root node.
func parseDocument(data []byte, file string) (root *yaml.Node, probs Problems) {
	at := func(line, col int, msg, hint string) Problems {
		return Problems{{File: file, Line: max(line, 1), Col: max(col, 1), Message: msg, Hint: hint}}
	}
	if len(data) > MaxFileSize {
		return nil, at(1, 1, fmt.Sprintf("file is larger than %d bytes", MaxFileSize), "")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, at(1, 1, "file is empty", "run phoenix init to write one")
	}
	defer func() {
		if r := recover(); r != nil { // the YAML parser must not take the caller down
			root, probs = nil, at(1, 1, "the YAML parser failed on this file", "check the file's syntax")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, at(1, 1, "file is empty", "run phoenix init to write one")
	} else if err != nil {
		line, col, msg := yamlErrorPos(err, data)
		return nil, at(line, col, msg, "")
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		line := next.Line
		if err != nil {
			line, _, _ = yamlErrorPos(err, data)
		}
		return nil, at(line, 1, "only one YAML document is allowed", "remove the --- separator and what follows")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, at(1, 1, "file has no content", "run phoenix init to write one")
	}
	if doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null" {
		return nil, at(1, 1, "file has no content", "run phoenix init to write one")
	}
	return doc.Content[0], nil
}

var (
	yamlLineRx   = regexp.MustCompile(`^(?:yaml: )?(?:line (\d+): )?(?:column (\d+): )?`)
	yamlAnchorRx = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// yamlErrorPos extracts the position from a yaml.v3 syntax error. yaml.v3
// reports parser errors ("did not find expected ...") with a zero-based line
// and unknown anchors with none; both are corrected here.
func yamlErrorPos(err error, data []byte) (line, col int, msg string) {
	s := err.Error()
	m := yamlLineRx.FindStringSubmatch(s)
	line, _ = strconv.Atoi(m[1])
	col, _ = strconv.Atoi(m[2])
	msg = strings.TrimSpace(s[len(m[0]):])
	if msg == "" {
		msg = s
	}
	if strings.HasPrefix(msg, "did not find expected") {
		line++
	}
	if a := yamlAnchorRx.FindStringSubmatch(msg); a != nil {
		if i := bytes.Index(data, []byte("*"+a[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = i - bytes.LastIndexByte(data[:i], '\n')
		}
	}
	line, col = max(line, 1), max(col, 1)
	if tabAt(data, line, col) {
		msg += " (a tab: YAML indents with spaces only; replace it with spaces)"
	}
	return line, col, "invalid YAML: " + msg
}

// tabAt reports whether data's line (1-based) has a tab at column col or
// in its indentation: what yaml.v3's "found character that cannot start
// any token" at the start of a line means, without saying so.
func tabAt(data []byte, line, col int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if line > len(lines) {
		return false
	}
	l := lines[line-1]
	if col <= len(l) && l[col-1] == '\t' {
		return true
	}
	indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
	return bytes.IndexByte(indent, '\t') >= 0
}
