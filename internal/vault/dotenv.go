package vault

import (
	"fmt"
	"io"
	"strings"
)

// EnvEntry is one KEY=value of a .env file.
type EnvEntry struct {
	Name  string
	Value Secret
	Line  int // where the entry starts
}

// MaxDotenvSize bounds what ParseDotenv reads.
const MaxDotenvSize = 8 << 20

// ParseDotenv reads a .env file: KEY=value lines, optionally prefixed by
// "export ", with # comments and blank lines. Values are unquoted (an
// inline comment starts at " #"; surrounding spaces are trimmed),
// 'single-quoted' (literal, may span lines) or "double-quoted" (may span
// lines; \n \r \t \" \\ \$ are escapes). There is no ${VAR} expansion: a
// value is exactly what the file says. A repeated key is an error.
// Errors name the line and key, never a value (envKey).
func ParseDotenv(r io.Reader) ([]EnvEntry, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDotenvSize+1))
	if err != nil {
		return nil, fmt.Errorf(".env: %w", err)
	}
	defer wipe(b)
	if len(b) > MaxDotenvSize {
		return nil, fmt.Errorf(".env: larger than %d bytes", MaxDotenvSize)
	}
	p := &dotenv{s: strings.ReplaceAll(string(b), "\r\n", "\n"), line: 1}
	seen := map[string]int{}
	var out []EnvEntry
	for {
		e, ok, err := p.entry()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if first, dup := seen[e.Name]; dup {
			return nil, fmt.Errorf(".env line %d: %s is already set on line %d", e.Line, envKey(e.Name), first)
		}
		seen[e.Name] = e.Line
		out = append(out, e)
	}
}

// envKey is how an error names key: as written when it is a valid name
// not shaped like a credential, else by its fingerprint (AuditedName), as
// it may be a value pasted where the key belongs or a token: the error
// reaches terminals and CI logs.
func envKey(key string) string {
	if ValidName(key) && credentialLike(key) == "" {
		return key
	}
	return AuditedName(key)
}

type dotenv struct {
	s    string
	i    int
	line int
}

// restOfLine returns the text up to the newline and moves past it.
func (p *dotenv) restOfLine() string {
	j := strings.IndexByte(p.s[p.i:], '\n')
	if j < 0 {
		t := p.s[p.i:]
		p.i = len(p.s)
		return t
	}
	t := p.s[p.i : p.i+j]
	p.i += j + 1
	p.line++
	return t
}

// entry parses the next KEY=value; ok is false at the end.
func (p *dotenv) entry() (EnvEntry, bool, error) {
	for p.i < len(p.s) {
		start := p.line
		lineStart := p.i
		text := strings.TrimLeft(p.restOfLine(), " \t")
		if text == "" || text[0] == '#' {
			continue
		}
		text = strings.TrimPrefix(text, "export ")
		key, _, found := strings.Cut(text, "=")
		key = strings.TrimSpace(key)
		if !found {
			return EnvEntry{}, false, fmt.Errorf(".env line %d: expected KEY=value", start)
		}
		if !ValidName(key) {
			return EnvEntry{}, false, fmt.Errorf(".env line %d: %s is not a valid name: use letters, digits and _, not starting with a digit", start, envKey(key))
		}
		// Re-read the value from the source: quoted values may span lines.
		p.i, p.line = lineStart+strings.IndexByte(p.s[lineStart:], '=')+1, start
		val, err := p.value(key, start)
		if err != nil {
			return EnvEntry{}, false, err
		}
		return EnvEntry{Name: key, Value: SecretString(val), Line: start}, true, nil
	}
	return EnvEntry{}, false, nil
}

func (p *dotenv) value(key string, start int) (string, error) {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	if p.i >= len(p.s) {
		return "", nil
	}
	switch q := p.s[p.i]; q {
	case '"', '\'':
		p.i++
		v, err := p.quoted(q, key, start)
		if err != nil {
			return "", err
		}
		ln := p.line
		if rest := strings.TrimSpace(p.restOfLine()); rest != "" && rest[0] != '#' {
			return "", fmt.Errorf(".env line %d: %s: unexpected text after the closing quote", ln, envKey(key))
		}
		return v, nil
	}
	v := p.restOfLine()
	if j := strings.Index(v, " #"); j >= 0 {
		v = v[:j]
	}
	if j := strings.Index(v, "\t#"); j >= 0 {
		v = v[:j]
	}
	return strings.TrimRight(v, " \t"), nil
}

// quoted reads up to the closing quote q.
func (p *dotenv) quoted(q byte, key string, start int) (string, error) {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\n':
			p.line++
			b.WriteByte(c)
		case c == '\\' && q == '"' && p.i < len(p.s):
			b.WriteString(unescape(p.s[p.i]))
			if p.s[p.i] == '\n' {
				p.line++
			}
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf(".env line %d: %s: the quote opened here is never closed", start, envKey(key))
}

func unescape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	case '"', '\\', '$':
		return string(c)
	}
	return "\\" + string(c)
}

// FormatDotenv writes entries as NAME="value" lines that ParseDotenv reads
// back to the same values.
func FormatDotenv(w io.Writer, entries []EnvEntry) error {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "$", `\$`)
	for _, e := range entries {
		if _, err := fmt.Fprintf(w, "%s=\"%s\"\n", e.Name, r.Replace(e.Value.Reveal())); err != nil {
			return err
		}
	}
	return nil
}
