package artifact

import (
	"bytes"
	"net/url"
	"path"
	"strings"
)

// rewriteHTML adds integrity attributes to <script src> and
// <link rel=stylesheet|modulepreload href> tags whose URL names a file of the
// release with an SRI hash (sri, by path). Tags that already carry integrity,
// and URLs to other origins, are left alone. refs records every local URL
// looked up and the hash used ("" when none), so a cached rewrite can be
// trusted only while those hashes are unchanged.
func rewriteHTML(rel string, data []byte, sri map[string]string) ([]byte, map[string]string) {
	refs := map[string]string{}
	var out bytes.Buffer
	last := 0
	for i := 0; i < len(data); {
		lt := bytes.IndexByte(data[i:], '<')
		if lt < 0 {
			break
		}
		start := i + lt
		name, attrs, end := scanTag(data, start)
		if end <= start {
			i = start + 1
			continue
		}
		i = end
		target := tagTarget(name, attrs)
		if target == "" {
			if name == "script" {
				i = skipScript(data, end)
			}
			continue
		}
		p, ok := localPath(rel, target)
		if ok {
			h := sri[p]
			refs[p] = h
			if h != "" {
				insert := end - 1
				if insert > start && data[insert-1] == '/' {
					insert--
				}
				out.Write(data[last:insert])
				out.WriteString(` integrity="` + h + `"`)
				last = insert
			}
		}
		if name == "script" {
			i = skipScript(data, end)
		}
	}
	if last == 0 {
		return data, refs
	}
	out.Write(data[last:])
	return out.Bytes(), refs
}

// tagTarget returns the URL that needs an integrity attribute, if any.
func tagTarget(name string, attrs map[string]string) string {
	if _, has := attrs["integrity"]; has {
		return ""
	}
	switch name {
	case "script":
		return attrs["src"]
	case "link":
		for _, r := range strings.Fields(strings.ToLower(attrs["rel"])) {
			if r == "stylesheet" || r == "modulepreload" {
				return attrs["href"]
			}
		}
	}
	return ""
}

// localPath resolves a same-origin URL against the page's path.
func localPath(rel, ref string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.Path == "" {
		return "", false
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		p = path.Join(path.Dir("/"+rel), p)
	}
	p = strings.TrimPrefix(path.Clean(p), "/")
	return p, ValidatePath(p) == nil
}

// skipScript returns the index after the </script> that closes a script
// element whose start tag ends at i, so script text is not scanned for tags.
func skipScript(data []byte, i int) int {
	lower := bytes.ToLower(data[i:min(len(data), i+1<<20)])
	if j := bytes.Index(lower, []byte("</script")); j >= 0 {
		return i + j
	}
	return len(data)
}

// scanTag parses the start tag at data[start] ('<'). It returns the
// lowercase tag name, its attributes (lowercase names, unquoted values) and
// the index just after '>'; end <= start means it is not a start tag.
func scanTag(data []byte, start int) (string, map[string]string, int) {
	i := start + 1
	n := i
	for n < len(data) && isNameByte(data[n]) {
		n++
	}
	if n == i || n >= len(data) {
		return "", nil, 0
	}
	name := strings.ToLower(string(data[i:n]))
	if name != "script" && name != "link" {
		return name, nil, n
	}
	attrs := map[string]string{}
	i = n
	for i < len(data) {
		for i < len(data) && isSpace(data[i]) || i < len(data) && data[i] == '/' {
			i++
		}
		if i >= len(data) {
			return "", nil, 0
		}
		if data[i] == '>' {
			return name, attrs, i + 1
		}
		k := i
		for i < len(data) && !isSpace(data[i]) && data[i] != '=' && data[i] != '>' && data[i] != '/' {
			i++
		}
		key := strings.ToLower(string(data[k:i]))
		val := ""
		if i < len(data) && data[i] == '=' {
			val, i = scanValue(data, i+1)
		}
		attrs[key] = val
	}
	return "", nil, 0
}

func scanValue(data []byte, i int) (string, int) {
	if i >= len(data) {
		return "", i
	}
	if q := data[i]; q == '"' || q == '\'' {
		j := bytes.IndexByte(data[i+1:], q)
		if j < 0 {
			return "", len(data)
		}
		return string(data[i+1 : i+1+j]), i + 2 + j
	}
	j := i
	for j < len(data) && !isSpace(data[j]) && data[j] != '>' {
		j++
	}
	return string(data[i:j]), j
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
