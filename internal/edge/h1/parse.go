package h1

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// verdict is what parseHead found at the start of the buffer.
type verdict int

const (
	needMore verdict = iota // the head is incomplete: read more bytes
	accept                  // a request the lean loop serves
	handOver                // anything else: net/http must parse it
)

// parsed is one request head accepted by parseHead. Its strings are copies:
// they stay valid after the read buffer is reused.
type parsed struct {
	method string // http.MethodGet or http.MethodHead
	target string // request-target as sent (RequestURI)
	path   string // decoded path (URL.Path)
	query  string // raw query (URL.RawQuery)
	u      *url.URL
	host   string
	close  bool // Connection: close
	cond   bool // a precondition (If-*) or Range field came
	size   int  // bytes of the head, blank line included
}

// parseHead parses the request head at the start of b. It accepts only what
// net/http would parse to the very same *http.Request: GET or HEAD, an
// origin-form target, HTTP/1.1, CRLF line ends, exactly one valid Host,
// token header names, valid values, and none of the headers that change how
// the message is framed or interpreted (Content-Length, Transfer-Encoding,
// Expect, Upgrade, Pragma, Trailer, unusual Connection tokens). Header
// fields other than Host go into hdr as net/textproto would store them;
// everything else is handOver, so net/http answers it (400, 431, 505,
// bodies, HTTP/1.0...) exactly as it always does.
//
// hdr holds the previous head's fields on the connection (or nothing):
// on accept it holds exactly this head's. A value that repeats unchanged
// keeps its string, so a keep-alive client sending the same headers again
// costs no allocation. seen is scratch (the keys of this head).
func parseHead(b []byte, hdr http.Header, seen *[]string, p *parsed) verdict {
	*seen = (*seen)[:0]
	line, rest, v := nextLine(b)
	if v != accept {
		return v
	}
	if v = parseRequestLine(line, p); v != accept {
		return v
	}
	p.close, p.cond = false, false
	hosts := 0
	for {
		line, rest, v = nextLine(rest)
		if v != accept {
			return v
		}
		if len(line) == 0 {
			break
		}
		switch parseField(line, hdr, seen, p) {
		case fieldHost:
			hosts++
		case fieldBad:
			return handOver
		}
	}
	if hosts != 1 {
		return handOver
	}
	if len(hdr) > len(*seen) { // fields of the previous head this one lacks
		for k := range hdr {
			if !slices.Contains(*seen, k) {
				delete(hdr, k)
			}
		}
	}
	p.size = len(b) - len(rest)
	return accept
}

// nextLine splits the CRLF-terminated line at the start of b. A bare LF is
// handOver (net/http tolerates it; the lean loop does not).
func nextLine(b []byte) (line, rest []byte, v verdict) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, needMore
	}
	if i == 0 || b[i-1] != '\r' {
		return nil, nil, handOver
	}
	return b[:i-1], b[i+1:], accept
}

func parseRequestLine(line []byte, p *parsed) verdict {
	var rest []byte
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		p.method, rest = http.MethodGet, line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		p.method, rest = http.MethodHead, line[5:]
	default:
		return handOver
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 || rest[0] != '/' || string(rest[sp+1:]) != "HTTP/1.1" {
		return handOver
	}
	return parseTarget(rest[:sp], p)
}

// parseTarget fills p's target, path and query. Targets made only of
// characters that need no decoding are split directly; others go through
// url.ParseRequestURI, as net/http does.
func parseTarget(t []byte, p *parsed) verdict {
	if p.target != string(t) { // a connection often asks for the same target again
		p.target = string(t)
	}
	p.u = nil
	q := -1
	for i, c := range t {
		if c == '?' {
			q = i
			break
		}
		if !pathByte(c) {
			return parseOddTarget(p)
		}
	}
	if q < 0 {
		p.path, p.query = p.target, ""
		return accept
	}
	for _, c := range t[q+1:] {
		if !queryByte(c) {
			return parseOddTarget(p)
		}
	}
	p.path, p.query = p.target[:q], p.target[q+1:]
	return accept
}

func parseOddTarget(p *parsed) verdict {
	u, err := url.ParseRequestURI(p.target)
	// A ';' in the query makes net/http log a warning: let it.
	if err != nil || u.Host != "" || u.Scheme != "" || strings.Contains(u.RawQuery, ";") {
		return handOver
	}
	p.u, p.path, p.query = u, u.Path, u.RawQuery
	return accept
}

// Byte classes the parser checks, one table lookup per byte.
const (
	classPath  = 1 << iota // url.ParseRequestURI keeps it verbatim in URL.Path, without RawPath
	classQuery             // accepted as is in a raw query (no ';')
	classToken             // RFC 9110 token character (header names)
	classHost              // in the common Host shapes: names, IPv4, [IPv6], ports
)

var byteClass = func() (t [256]uint8) {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	in := func(set string, c byte) bool { return strings.IndexByte(set, c) >= 0 }
	for i := range t {
		c := byte(i)
		path := alnum(c) || in("-._~$&+,/:;=@", c)
		set := func(class uint8, ok bool) {
			if ok {
				t[i] |= class
			}
		}
		set(classPath, path)
		set(classQuery, path && c != ';' || in("?%!*'()", c))
		set(classToken, alnum(c) || in("!#$%&'*+-.^_`|~", c))
		set(classHost, alnum(c) || in("-._:[]", c))
	}
	return t
}()

func pathByte(c byte) bool  { return byteClass[c]&classPath != 0 }
func queryByte(c byte) bool { return byteClass[c]&classQuery != 0 }

type fieldKind int

const (
	fieldOK fieldKind = iota
	fieldHost
	fieldBad
)

// parseField stores one "Name: value" line.
func parseField(line []byte, hdr http.Header, seen *[]string, p *parsed) fieldKind {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return fieldBad // also a leading space or tab: obs-fold continuation
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	for _, c := range name {
		if !tokenByte(c) {
			return fieldBad
		}
	}
	for _, c := range value {
		if c < ' ' && c != '\t' || c == 0x7f {
			return fieldBad
		}
	}
	key := canonicalKey(name)
	switch key {
	case "Host":
		if !validHost(value) {
			return fieldBad
		}
		if p.host != string(value) {
			p.host = string(value)
		}
		return fieldHost
	case "Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Pragma", "Trailer", "Http2-Settings":
		return fieldBad
	case "Connection":
		c, ok := connectionClose(value)
		if !ok {
			return fieldBad
		}
		p.close = p.close || c
	case "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range": // conditionalFields
		p.cond = true
	}
	setValue(hdr, seen, key, value)
	return fieldOK
}

// setValue stores v under key for the head being parsed: appended when key
// already came in this head, else kept when the previous head had the
// same single value, else written over the previous one-value slice or set.
func setValue(hdr http.Header, seen *[]string, key string, v []byte) {
	old, had := hdr[key]
	if had && slices.Contains(*seen, key) { // a repeated field
		hdr[key] = append(old[:len(old):len(old)], string(v))
		return
	}
	*seen = append(*seen, key)
	switch {
	case had && len(old) == 1 && old[0] == string(v):
	case had && len(old) == 1:
		old[0] = string(v)
	default:
		hdr[key] = []string{string(v)}
	}
}

// connectionClose reads a Connection value: close reports the "close"
// token; ok is false for tokens other than close and keep-alive.
func connectionClose(v []byte) (closeTok, ok bool) {
	for {
		tok, rest, more := bytes.Cut(v, []byte{','})
		switch tok = trimOWS(tok); {
		case asciiLowerIs(tok, "close"):
			closeTok = true
		case len(tok) == 0 || asciiLowerIs(tok, "keep-alive"):
		default:
			return false, false
		}
		if !more {
			return closeTok, true
		}
		v = rest
	}
}

// asciiLowerIs reports whether b, lower-cased in ASCII only, is s (lower
// case). Other bytes never match, so odd spellings go to net/http.
func asciiLowerIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// tokenByte reports RFC 9110 token characters (valid header name bytes).
func tokenByte(c byte) bool { return byteClass[c]&classToken != 0 }

// validHost accepts the common Host shapes (names, IPv4, [IPv6], ports);
// anything else is left to net/http's own check.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if byteClass[c]&classHost == 0 {
			return false
		}
	}
	return true
}

// commonKeys are the usual header names in canonical form (letters and
// '-' only), so they cost no allocation.
var commonKeys = []string{"Host", "Accept", "Accept-Encoding", "Accept-Language", "User-Agent",
	"Connection", "Cookie", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since",
	"Range", "If-Range", "Referer", "Cache-Control", "Authorization", "Origin", "Dnt",
	"X-Forwarded-Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Ms-Client-Principal",
	"Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Pragma", "Trailer", "Te",
	"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Priority",
	"Upgrade-Insecure-Requests", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform"}

// commonKey is one of commonKeys with its lower-case form.
type commonKey struct{ canon, low string }

// keysByLen holds commonKeys by length: a name is compared with the few
// of its length, without hashing it.
var keysByLen = func() (t [32][]commonKey) {
	for _, k := range commonKeys {
		t[len(k)] = append(t[len(k)], commonKey{k, strings.ToLower(k)})
	}
	return t
}()

// canonicalKey returns textproto's canonical form of a token name.
func canonicalKey(name []byte) string {
	if len(name) < len(keysByLen) {
		for _, k := range keysByLen[len(name)] {
			if lowerIs(name, k.low) {
				return k.canon
			}
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}

// lowerIs reports whether the token name, lower-cased, is low (of the
// same length, letters and '-' only). c|0x20 lower-cases a letter and
// leaves '-' alone; the only other byte it maps to a letter or '-' is
// that letter's upper case or a control character, which is no token.
func lowerIs(name []byte, low string) bool {
	for i := range len(low) {
		if name[i]|0x20 != low[i] {
			return false
		}
	}
	return true
}
