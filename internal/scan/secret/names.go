package secret

import (
	"bytes"
	"slices"
	"strings"
)

// words splits a name (or value) into its words, lower case: at
// characters other than ASCII letters and digits, between letters and
// digits, and where a capital starts a word (wordBoundary):
// "keyVaultName" and "KEY_VAULT_NAME" are both key, vault, name.
func words(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || charClass(s[i]) == otherChar {
			if start >= 0 {
				out = append(out, asciiLower(s[start:i]))
			}
			start = -1
			continue
		}
		if start < 0 {
			start = i
		} else if wordBoundary(s, i) {
			out = append(out, asciiLower(s[start:i]))
			start = i
		}
	}
	return out
}

// nameOK reports whether name (what a value is assigned to) names a secret
// for r: one of its words ends in one of r.NameWords (password, dbpassword,
// apikey), or is one written "=word" ("=pass": DB_PASS, not compass), and no word after the last such one is in r.NameRefs
// (secretName, PASSWORD_FILE, tokenUrl, secretKeyRef: the value names or
// locates a secret) nor one before it in r.NameRefsBefore (existingSecret,
// publicKey). A rule without NameWords takes any name.
func (r *Rule) nameOK(name string) bool {
	if len(r.NameWords) == 0 {
		return true
	}
	ws := words(name)
	last := -1
	for i, w := range ws {
		for _, k := range r.NameWords {
			if whole, ok := strings.CutPrefix(k, "="); ok && w == whole || !ok && strings.HasSuffix(w, k) {
				last = i
			}
		}
	}
	if last < 0 {
		return false
	}
	for _, w := range ws[last+1:] {
		if slices.Contains(r.NameRefs, w) {
			return false
		}
	}
	for _, w := range ws[:last] {
		if slices.Contains(r.NameRefsBefore, w) {
			return false
		}
	}
	return true
}

// nameAbove is the name a bare "value" is given on the line above it, as
// in a Kubernetes container's env (- name: DB_PASSWORD / value: "…") or a
// Terraform block (name = "db-password" / value = "…"): the text after
// "name" and ':' or '=' on that line, else "". A line above of more than
// 512 bytes is no such line (and is not searched back through).
func nameAbove(data []byte, lineStart int) string {
	if lineStart < 1 {
		return ""
	}
	from := max(0, lineStart-1-512)
	i := bytes.LastIndexByte(data[from:lineStart-1], '\n')
	if i < 0 && from > 0 {
		return ""
	}
	prev := data[from+i+1 : lineStart-1]
	prev = bytes.TrimLeft(prev, " \t-")
	prev = bytes.TrimLeft(prev, `"'`)
	if len(prev) < 4 || !strings.EqualFold(string(prev[:4]), "name") {
		return ""
	}
	prev = bytes.TrimLeft(prev[4:], `"' `+"\t")
	if len(prev) == 0 || prev[0] != ':' && prev[0] != '=' {
		return ""
	}
	return string(bytes.Trim(prev[1:], " \t\r\"',"))
}

// mixed reports whether v holds a letter and a digit or a symbol other
// than at its end ("p@ss:w0rd!", "a$b c"; not "Password:" nor "postgres").
func mixed(v []byte) bool {
	letter, other := false, false
	for i, c := range v {
		switch cl := charClass(c); {
		case cl == lowerChar || cl == upperChar || c >= 0x80:
			letter = true
		case cl == digitChar:
			other = true
		case c != ' ' && i < len(v)-1:
			other = true
		}
	}
	return letter && other
}

// looksLikeName reports whether v is shaped like the name of a key or a
// secret rather than a value: words of lower-case letters joined by '-',
// '.' or '_' (db-password-v2, jwt-signing-key-2024, tls.crt), or of
// capitals joined by '_' (WINDOWS_WEAK_PASSWORD), at least half of them
// letters only, none over 20 characters and none mixing letters and
// digits over 8 (v2, k8s, sha256). Not a UUID, a random token, a
// provider's prefixed one (packagist_ack_7432cdc05e…) nor capitals in
// groups (PMAT-01K4A58P2HS2Q43, a product or recovery key).
func looksLikeName(v []byte) bool {
	if !bytes.ContainsAny(v, "-._") {
		return false
	}
	parts, alpha, cases := 0, 0, 0
	for _, p := range bytes.FieldsFunc(v, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
		parts++
		letters, digits := false, false
		for _, c := range p {
			switch cl := charClass(c); cl {
			case lowerChar, upperChar:
				cases |= 1 << cl
				letters = true
			case digitChar:
				digits = true
			default:
				return false
			}
		}
		if len(p) > 20 || letters && digits && len(p) > 8 {
			return false
		}
		if letters && !digits && len(p) >= 2 {
			alpha++
		}
	}
	switch cases {
	case 1 << upperChar:
		if bytes.ContainsAny(v, "-.") {
			return false
		}
	case 1<<lowerChar | 1<<upperChar:
		return false
	}
	return parts > 0 && 2*alpha >= parts
}
