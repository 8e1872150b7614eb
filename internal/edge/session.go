package edge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// SessionCookie is the name of the edge's signed session cookie.
const SessionCookie = "phoenix_session"

// Principal is a signed-in user as SWA describes it (/.auth/me and the
// x-ms-client-principal header use this JSON shape).
type Principal struct {
	IdentityProvider string   `json:"identityProvider"`
	UserID           string   `json:"userId"`
	UserDetails      string   `json:"userDetails"`
	UserRoles        []string `json:"userRoles"`
}

// session is the signed cookie payload.
type session struct {
	P   Principal `json:"p"`
	Env string    `json:"env"` // environment it was issued for
	Exp int64     `json:"exp"` // unix seconds
}

var errBadSession = errors.New("edge: invalid session cookie")

// sessionSigner mints and verifies session cookies: base64url(JSON) "."
// base64url(HMAC-SHA256(key, "phoenix-session-v1\x00" JSON)).
type sessionSigner struct {
	key []byte
	ttl time.Duration
}

func (s *sessionSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("phoenix-session-v1\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// mint returns a cookie value for p in env, valid until now+ttl.
func (s *sessionSigner) mint(p Principal, env string, now time.Time) (string, error) {
	payload, err := json.Marshal(session{P: p, Env: env, Exp: now.Add(s.ttl).Unix()})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.mac(payload)), nil
}

// verify checks a cookie value's signature, environment and expiry.
func (s *sessionSigner) verify(v, env string, now time.Time) (*Principal, error) {
	body, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 8192 {
		return nil, errBadSession
	}
	enc := base64.RawURLEncoding.Strict() // one encoding per cookie: no variant of a genuine one verifies
	payload, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(payload)) {
		return nil, errBadSession
	}
	var ss session
	if err := json.Unmarshal(payload, &ss); err != nil {
		return nil, errBadSession
	}
	if ss.Env != env || now.Unix() >= ss.Exp {
		return nil, errBadSession
	}
	return &ss.P, nil
}

// cookie builds the Set-Cookie for a session value (empty value: delete).
func (s *sessionSigner) cookie(r *http.Request, value string) *http.Cookie {
	c := &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
		MaxAge: int(s.ttl.Seconds()),
	}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

// decodeClientPrincipal parses an x-ms-client-principal header value:
// base64 (standard or URL alphabet) JSON of a Principal.
func decodeClientPrincipal(v string) (*Principal, error) {
	if len(v) > 16384 {
		return nil, errors.New("edge: client principal header too large")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(strings.TrimSpace(v)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("edge: client principal header is not base64")
	}
	var p Principal
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, errors.New("edge: client principal header is not principal JSON")
	}
	return &p, nil
}

// rolesOf returns the roles the rules see: anonymous always, authenticated
// and the principal's own roles when signed in.
func rolesOf(p *Principal) []string {
	if p == nil {
		return anonymousRoles
	}
	roles := make([]string, 0, len(p.UserRoles)+2)
	roles = append(roles, "anonymous", "authenticated")
	for _, r := range p.UserRoles {
		if r != "anonymous" && r != "authenticated" && r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

var anonymousRoles = []string{"anonymous"}
