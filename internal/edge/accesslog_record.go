package edge

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Caps on the strings an access log record copies; longer values are cut
// (docs/edge.md "Access log").
const (
	capMethod  = 16
	capHost    = 256
	capPath    = 2048
	capUA      = 512
	capReferer = 1024
	recordText = capMethod + capHost + capPath + capUA + capReferer
)

// Indexes of the strings in accessRecord.text.
const (
	fMethod = iota
	fHost
	fPath
	fUA
	fReferer
	nFields
)

var fieldCaps = [nFields]int{capMethod, capHost, capPath, capUA, capReferer}

// accessRecord is one answered request, with its strings copied into a
// fixed array: the lean loop reuses its buffers, and a record must cost no
// allocation.
type accessRecord struct {
	at       time.Time
	dur      time.Duration
	env      string // the Env's name: immutable, shared
	status   int
	bytes    int64
	client   netip.Addr
	protoMaj uint8
	protoMin uint8
	tls      bool
	query    bool
	ends     [nFields]uint16 // ends[i]: end of string i in text
	text     [recordText]byte
}

// fill copies what the log needs from the answered request r.
func (rec *accessRecord) fill(r *http.Request, env string, status int, n int64, start time.Time, d time.Duration, client netip.Addr, https bool) {
	rec.at, rec.dur, rec.env, rec.status, rec.bytes, rec.client = start, d, env, status, n, client
	rec.protoMaj, rec.protoMin, rec.tls = uint8(r.ProtoMajor), uint8(r.ProtoMinor), https
	path := r.RequestURI // as received
	if path == "" {
		path = r.URL.Path
	}
	path, _, q := strings.Cut(path, "?")
	rec.query = q || r.URL.RawQuery != "" || r.URL.ForceQuery
	referer := headerValue(r, "Referer")
	if i := strings.IndexAny(referer, "?#"); i >= 0 {
		referer = referer[:i]
	}
	rec.setText(r.Method, r.Host, path, headerValue(r, "User-Agent"), referer)
}

// setText copies the strings, each cut to its cap.
func (rec *accessRecord) setText(s ...string) {
	end := 0
	for i, v := range s {
		end += copy(rec.text[end:end+fieldCaps[i]], v)
		rec.ends[i] = uint16(end)
	}
}

// field returns string i's bytes.
func (rec *accessRecord) field(i int) []byte {
	start := 0
	if i > 0 {
		start = int(rec.ends[i-1])
	}
	return rec.text[start:rec.ends[i]]
}

// stampCache keeps the formatted second of the last record: lines of the
// same second only append the milliseconds. The writer goroutine's own.
type stampCache struct {
	sec    int64
	prefix []byte // "2006-01-02T15:04:05."
}

// appendTime appends t as RFC 3339 UTC with milliseconds.
func (c *stampCache) appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != c.sec || c.prefix == nil {
		c.sec, c.prefix = sec, t.AppendFormat(c.prefix[:0], "2006-01-02T15:04:05.")
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, c.prefix...)
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendJSON appends rec as one JSON object and a newline; c caches the
// time's formatting.
func (rec *accessRecord) appendJSON(b []byte, c *stampCache) []byte {
	b = append(b, `{"time":"`...)
	b = c.appendTime(b, rec.at)
	b = append(b, `","env":`...)
	b = appendJSONString(b, rec.env)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, rec.field(fHost))
	b = append(b, `,"method":`...)
	b = appendJSONString(b, rec.field(fMethod))
	b = append(b, `,"path":`...)
	b = appendJSONString(b, rec.field(fPath))
	b = append(b, `,"query":`...)
	b = strconv.AppendBool(b, rec.query)
	b = append(b, `,"proto":"HTTP/`...)
	b = strconv.AppendUint(b, uint64(rec.protoMaj), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(rec.protoMin), 10)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(rec.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, rec.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(max(rec.dur, 0))/1e6, 'f', 3, 64)
	b = append(b, `,"client":"`...)
	if rec.client.IsValid() {
		b = rec.client.AppendTo(b)
	}
	b = append(b, `","user_agent":`...)
	b = appendJSONString(b, rec.field(fUA))
	b = append(b, `,"referer":`...)
	b = appendJSONString(b, rec.field(fReferer))
	b = append(b, `,"tls":`...)
	b = strconv.AppendBool(b, rec.tls)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, each byte of invalid UTF-8 replaced by
// U+FFFD, and U+2028/U+2029 escaped (as encoding/json does).
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
